import Foundation

/// Element-wise and row-wise kernels over raw buffers: tight loops, no
/// allocation. Shapes are (rows, columns) row-major unless stated.
public enum Ops {
    /// LayerNorm over each row of `x` (rows, n), in place: (x - mean) / sqrt(var + eps) * w [+ b].
    /// Rows are split across cores when there are many.
    @inlinable
    public static func layerNorm(
        _ x: UnsafeMutablePointer<Float>, rows: Int, columns n: Int,
        weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?, eps: Float
    ) {
        let (xs, ws, bs) = (UncheckedPointer(x), UncheckedPointer(UnsafeMutablePointer(mutating: weight)),
                            bias.map { UncheckedPointer(UnsafeMutablePointer(mutating: $0)) })
        Parallel.forEachChunk(rows, minimumPerWorker: max(1, 65536 / max(1, n))) { range in
            layerNormRows(xs.pointer, rows: range, columns: n, weight: ws.pointer, bias: bs?.pointer, eps: eps)
        }
    }

    @inlinable
    static func layerNormRows(
        _ x: UnsafeMutablePointer<Float>, rows: Range<Int>, columns n: Int,
        weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?, eps: Float
    ) {
        let inv = 1 / Float(n)
        for r in rows {
            let row = x + r * n
            var mean: Float = 0
            for j in 0..<n { mean += row[j] }
            mean *= inv
            var variance: Float = 0
            for j in 0..<n { let d = row[j] - mean; variance += d * d }
            let scale = 1 / (variance * inv + eps).squareRoot()
            if let bias {
                for j in 0..<n { row[j] = (row[j] - mean) * scale * weight[j] + bias[j] }
            } else {
                for j in 0..<n { row[j] = (row[j] - mean) * scale * weight[j] }
            }
        }
    }

    /// LayerNorm from `x` into `out` (x is left unchanged).
    @inlinable
    public static func layerNorm(
        _ x: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>, rows: Int, columns n: Int,
        weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?, eps: Float
    ) {
        out.update(from: x, count: rows * n)
        layerNorm(out, rows: rows, columns: n, weight: weight, bias: bias, eps: eps)
    }

    /// Softmax over each row in place, max-subtracted (vectorised exp). A row
    /// whose entries are all -inf becomes uniform, as PyTorch's
    /// masked_fill(-max) + softmax gives.
    @inlinable
    public static func softmaxRows(_ x: UnsafeMutablePointer<Float>, rows: Int, columns n: Int, stride: Int? = nil) {
        let ld = stride ?? n
        for r in 0..<rows { FastMath.softmax(x + r * ld, count: n) }
    }

    /// GELU with the exact erf (PyTorch nn.GELU()).
    @inlinable
    public static func gelu(_ x: UnsafeMutablePointer<Float>, count: Int) {
        let c: Float = 0.70710678118654752
        for i in 0..<count { let v = x[i]; x[i] = 0.5 * v * (1 + erff(v * c)) }
    }

    /// QuickGELU, x · σ(1.702x) (OpenAI CLIP), vectorised and split across cores.
    @inlinable
    public static func quickGelu(_ x: UnsafeMutablePointer<Float>, count: Int) {
        let base = UncheckedPointer(x)
        Parallel.forEachChunk(count, minimumPerWorker: 1 << 16) { range in
            FastMath.quickGelu(base.pointer + range.lowerBound, count: range.count)
        }
    }

    /// log-softmax of one row into `out`.
    @inlinable
    public static func logSoftmax(_ x: UnsafePointer<Float>, count n: Int, into out: UnsafeMutablePointer<Float>) {
        var m = -Float.infinity
        for j in 0..<n { m = max(m, x[j]) }
        var sum: Double = 0
        for j in 0..<n { sum += Double(expf(x[j] - m)) }
        let lse = m + Float(log(sum))
        for j in 0..<n { out[j] = x[j] - lse }
    }
}

/// A raw pointer that parallel loops over disjoint ranges may share.
public struct UncheckedPointer: @unchecked Sendable {
    public let pointer: UnsafeMutablePointer<Float>
    public init(_ pointer: UnsafeMutablePointer<Float>) { self.pointer = pointer }
}
