import CHalf
import TestSupport
import XCTest
@testable import Model
@testable import Weights

/// 4-bit weights at rest ("q4_block32", docs/QUANTIZATION.md): the quantizer's
/// blocks and rounding, and `Linear` on both of its paths (the fused 4-bit
/// matrix-vector kernel for up to `fusedHalfRows` input rows, widened tiles and
/// sgemm above) against a naive integer twin and the float product of the
/// dequantized weights.
final class Q4LinearTests: XCTestCase {
    /// (packed, scales as F16 bits, dequantized) of a random (rows, k) matrix.
    private func quantized(rows: Int, k: Int, using rng: inout SplitMix64) -> (w: [Float], packed: [UInt8], scales: [UInt16], values: [Float]) {
        var w = (0..<(rows * k)).map { _ in Float.random(in: -1...1, using: &rng) * (Bool.random(using: &rng) ? 1 : 0.01) }
        if rows > 1 { for j in 0..<min(k, 32) { w[k + j] = 0 } }  // an all-zero block
        var packed = [UInt8](repeating: 0, count: rows * k / 2), scales = [UInt16](repeating: 0, count: rows * k / 32)
        flamingo_q4_quantize_rows(w, rows, k, &packed, &scales)
        var values = [Float](repeating: 0, count: rows * k)
        flamingo_q4_widen(packed, scales, k, 0, rows, &values)
        return (w, packed, scales, values)
    }

    func testBlocksRoundToTheirOwnScale() {
        var rng = SplitMix64(seed: 4)
        let (rows, k) = (6, 96)
        let (w, packed, scales, values) = quantized(rows: rows, k: k, using: &rng)
        for r in 0..<rows {
            for b in 0..<(k / 32) {
                let block = (0..<32).map { w[r * k + 32 * b + $0] }
                let extreme = block.max { abs($0) < abs($1) } ?? 0
                let d = Float(Float16(bitPattern: scales[r * (k / 32) + b]))
                XCTAssertEqual(d, Float(Float16(extreme / -8)), "row \(r) block \(b): scale is extreme / -8 in F16")
                for j in 0..<32 {
                    let i = r * k + 32 * b + j
                    let q = j < 16 ? packed[r * k / 2 + 16 * b + j] & 0x0F : packed[r * k / 2 + 16 * b + j - 16] >> 4
                    XCTAssertEqual(values[i], d * Float(Int(q) - 8), "widen row \(r) column \(32 * b + j)")
                    // Within half a step, except a value near the opposite extreme (it would need q = 16): one step.
                    let bound = abs(w[i] / d + 8) > 15.5 ? abs(d) : abs(d) / 2
                    XCTAssertLessThanOrEqual(abs(values[i] - w[i]), bound * 1.001 + 1e-7, "row \(r) column \(32 * b + j)")
                }
                if extreme != 0 { XCTAssertEqual(values[r * k + 32 * b + block.firstIndex(of: extreme)!], extreme, accuracy: abs(extreme) * 1e-3) }
            }
        }
        XCTAssertEqual(scales[1 * (k / 32)], 0, "the all-zero block")
    }

    /// Decoding: inputs quantized in blocks of 32, each block's products summed in int32 and scaled by both
    /// blocks' scales (the integer twin, exact apart from float rounding), within the bound the input
    /// scales give of the float product; prompts (more rows) widen tiles: the float product itself.
    func testQ4WeightsMatchTheIntegerTwinAndTheDequantizedProduct() {
        var rng = SplitMix64(seed: 44)
        for (m, k, n, withBias) in [(1, 64, 33, true), (3, 96, 40, false), (8, 256, 19, true), (1, 768, 9, false),
                                    (9, 64, 30, true), (20, 32, 7, false)] {
            let (_, packed, scales, values) = quantized(rows: n, k: k, using: &rng)
            let owner = PinnedBuffer(packed), scaleOwner = PinnedBuffer(scales)
            let matrix = WeightMatrix(rows: n, columns: k, q4: owner.raw, scales: scaleOwner.raw, owner: [owner, scaleOwner] as AnyObject)
            XCTAssertEqual(matrix.float32(), values)
            let bias = withBias ? (0..<n).map { _ in Float.random(in: -1...1, using: &rng) } : nil
            let linear = Linear(matrix: matrix, bias: bias)
            let x = (0..<(m * k)).map { _ in Float.random(in: -1...1, using: &rng) }
            let out = linear(x, rows: m)
            let integer = m <= Linear.fusedHalfRows
            for i in 0..<m {
                var xq = [Int8](repeating: 0, count: k), xs = [Float](repeating: 0, count: k / 32)
                x.withUnsafeBufferPointer { flamingo_i8_quantize_blocks($0.baseAddress! + i * k, k, &xq, &xs) }
                for r in 0..<n {
                    var float = bias?[r] ?? 0
                    for j in 0..<k { float += values[r * k + j] * x[i * k + j] }
                    let got = out[i * n + r]
                    guard integer else {
                        XCTAssertEqual(got, float, accuracy: 2e-5 * Float(k).squareRoot(), "m=\(m) k=\(k) n=\(n) row \(i) column \(r)")
                        continue
                    }
                    var twin: Float = 0, bound: Float = 0
                    for b in 0..<(k / 32) {
                        let d = Float(Float16(bitPattern: scales[r * (k / 32) + b]))
                        var sum = 0, magnitude: Float = 0
                        for j in (32 * b)..<(32 * b + 32) {
                            sum += Int((values[r * k + j] / (d == 0 ? 1 : d)).rounded()) * Int(xq[j])
                            magnitude += abs(values[r * k + j])
                        }
                        twin += xs[b] * d * Float(sum)
                        bound += xs[b] / 2 * magnitude
                    }
                    twin += bias?[r] ?? 0
                    XCTAssertEqual(got, twin, accuracy: 1e-5 * max(1, abs(twin)), "integer twin m=\(m) k=\(k) n=\(n) row \(i) column \(r)")
                    XCTAssertLessThanOrEqual(abs(got - float), bound * 1.0001 + 1e-5, "bound m=\(m) k=\(k) n=\(n) row \(i) column \(r)")
                }
            }
        }
    }
}
