/// Vectorised exp for the hot element-wise loops (QuickGELU, softmax):
/// Cephes `expf` range reduction and polynomial on 4 lanes (one SSE register:
/// wider vectors spill on the baseline x86-64 target); relative error about
/// 2e-7 over the float range (checked against `expf` in the tests).
public enum FastMath {
    public typealias Vector = SIMD4<Float>
    public static let lanes = 4

    @inlinable @inline(__always)
    public static func exp(_ value: Vector) -> Vector {
        let x = pointwiseMin(pointwiseMax(value, Vector(repeating: -87.3)), Vector(repeating: 88.7))
        // n = round(x / ln2) by the 1.5·2^23 trick: adding it leaves n in the low
        // mantissa bits, so no float->int conversion is needed (those are not
        // vectorised for SIMD16 and cost more than the polynomial).
        let shifted = x * 1.44269504088896341 + 12582912
        let n = shifted - 12582912
        // r = x - n·ln2, with ln2 split in two for accuracy.
        let r = x - n * 0.693359375 + n * 2.12194440e-4
        let z = r * r
        var p = 1.9875691500e-4 * r + 1.3981999507e-3
        p = p * r + 8.3334519073e-3
        p = p * r + 4.1665795894e-2
        p = p * r + 1.6666665459e-1
        p = p * r + 5.0000001201e-1
        p = p * z + r + 1
        // 2^n: bitPattern(shifted) = 0x4B400000 + n.
        let bits = (unsafeBitCast(shifted, to: SIMD4<Int32>.self) &- 0x4B40_0000 &+ 127) &<< 23
        // Below the float range (masked scores are -inf): exactly 0, as expf gives.
        return (p * unsafeBitCast(bits, to: Vector.self)).replacing(with: 0, where: value .< -87.3)
    }

    /// QuickGELU x · σ(1.702x) over `count` floats in place.
    @inlinable
    public static func quickGelu(_ x: UnsafeMutablePointer<Float>, count: Int) {
        var i = 0
        while i + lanes <= count {
            let v = UnsafeRawPointer(x + i).loadUnaligned(as: Vector.self)
            let y = v / (1 + exp(-1.702 * v))
            UnsafeMutableRawPointer(x + i).storeBytes(of: y, as: Vector.self)
            i += lanes
        }
        while i < count {
            var tail = Vector(repeating: 0)
            let n = min(lanes, count - i)
            for j in 0..<n { tail[j] = x[i + j] }
            let y = tail / (1 + exp(-1.702 * tail))
            for j in 0..<n { x[i + j] = y[j] }
            i += n
        }
    }

    /// Softmax of one row of `n` floats in place (max-subtracted). A row of all
    /// -inf becomes uniform (PyTorch's masked_fill(-max) behaviour).
    @inlinable
    public static func softmax(_ row: UnsafeMutablePointer<Float>, count n: Int) {
        var m = -Float.infinity
        for j in 0..<n { m = Swift.max(m, row[j]) }
        if m == -Float.infinity {
            for j in 0..<n { row[j] = 1 / Float(n) }
            return
        }
        var sum: Float = 0
        var j = 0
        while j + lanes <= n {
            let v = exp(UnsafeRawPointer(row + j).loadUnaligned(as: Vector.self) - m)
            UnsafeMutableRawPointer(row + j).storeBytes(of: v, as: Vector.self)
            sum += v.sum()
            j += lanes
        }
        while j < n {
            let e = exp(Vector(repeating: row[j] - m))[0]
            row[j] = e
            sum += e
            j += 1
        }
        let inv = 1 / sum
        for k in 0..<n { row[k] *= inv }
    }
}
