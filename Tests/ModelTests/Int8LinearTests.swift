import CHalf
import TestSupport
import XCTest
@testable import Model
@testable import Weights

/// Int8 weights at rest (docs/QUANTIZATION.md): the quantizer's rounding and
/// scales, and `Linear` on both of its paths (the fused int8 matrix-vector
/// kernel for up to `fusedHalfRows` input rows, widened tiles and sgemm above)
/// against a naive product of the dequantized weights. Sizes include k not a
/// multiple of 8 (the kernel's scalar tail), n not a multiple of 4, bias on and off.
final class Int8LinearTests: XCTestCase {
    func testQuantizedRowsRoundToTheNearestStepOfTheirOwnScale() {
        var rng = SplitMix64(seed: 8)
        let (rows, k) = (5, 37)
        var w = (0..<(rows * k)).map { _ in Float.random(in: -2...2, using: &rng) }
        for j in 0..<k { w[2 * k + j] = 0 }  // an all-zero row
        var q = [Int8](repeating: 0, count: rows * k)
        var scales = [Float](repeating: -1, count: rows)
        flamingo_i8_quantize_rows(w, rows, k, &q, &scales)
        for r in 0..<rows {
            let amax = (0..<k).map { abs(w[r * k + $0]) }.max() ?? 0
            XCTAssertEqual(scales[r], amax / 127, "row \(r)")
            for j in 0..<k {
                let v = w[r * k + j]
                XCTAssertLessThanOrEqual(abs(Float(q[r * k + j]) * scales[r] - v), scales[r] / 2 * 1.0001, "row \(r) column \(j)")
                XCTAssertTrue((-127...127).contains(q[r * k + j]))
            }
            if amax > 0 { XCTAssertEqual(abs(q[r * k + (0..<k).max { abs(w[r * k + $0]) < abs(w[r * k + $1]) }!]), 127) }
        }
        XCTAssertEqual(scales[2], 0)
        XCTAssertTrue(q[(2 * k)..<(3 * k)].allSatisfy { $0 == 0 })
    }

    /// The decode input's blocks of 32 (vector code) follow the scalar rule exactly: scale = max|block| / 127,
    /// q = round half away from zero of x / scale, computed as floor(|x · (1 / scale)| + 0.5) with the sign.
    func testInputBlocksFollowTheScalarRule() {
        var rng = SplitMix64(seed: 32)
        let n = 32 * 40
        var x = (0..<n).map { _ in Float.random(in: -3...3, using: &rng) }
        for j in 0..<32 { x[64 + j] = 0 }                    // an all-zero block
        for j in 0..<32 { x[128 + j] = Float(j - 16) / 2 }   // ties after scaling
        var q = [Int8](repeating: 0, count: n), scales = [Float](repeating: -1, count: n / 32)
        flamingo_i8_quantize_blocks(x, n, &q, &scales)
        for b in 0..<(n / 32) {
            let block = x[(32 * b)..<(32 * b + 32)]
            let d = (block.map(abs).max() ?? 0) / 127
            XCTAssertEqual(scales[b], d, "block \(b)")
            let inverse: Float = d > 0 ? 1 / d : 0
            for j in 0..<32 {
                let t = x[32 * b + j] * inverse
                let r = (abs(t) + 0.5).rounded(.down) * (t < 0 ? -1 : 1)
                XCTAssertEqual(q[32 * b + j], Int8(max(-127, min(127, r))), "block \(b) value \(j)")
            }
        }
    }

    /// Decoding (at most 8 input rows, k a multiple of 32): the inputs are quantized in blocks of 32 and
    /// each block's products summed in int32. More rows (prompts, frames): oneDNN's matmul with each input
    /// row quantized with one scale (per token), packed or read in place. Both are checked against a naive
    /// integer twin (the same quantization, integer sums; float rounding apart) and against the float
    /// product of the dequantized weights within the bound the input scales give (|error| <= sum over
    /// blocks of scale / 2 * sum |W|, one block per row for oneDNN). Decoding with k not a multiple of
    /// 32 widens the weights: the float product itself.
    func testInt8WeightsMatchTheIntegerTwinAndTheDequantizedProduct() throws {
        var rng = SplitMix64(seed: 2022)
        for (index, (m, k, n, withBias)) in [(1, 64, 33, true), (3, 77, 40, false), (8, 256, 19, true), (2, 96, 7, false),
                                             (9, 40, 300, true), (17, 64, 101, false), (20, 35, 7, false),
                                             (64, 768, 96, true), (130, 100, 51, false)].enumerated() {
            let values = (0..<(n * k)).map { _ in Int8.random(in: -127...127, using: &rng) }
            let scales = (0..<n).map { _ in Float.random(in: 0.001...0.05, using: &rng) }
            let owner = PinnedBuffer(values)
            let matmul = try XCTUnwrap(try? Int8Matmul.make(weights: owner.raw.assumingMemoryBound(to: Int8.self), rows: n,
                                                            columns: k, pack: index % 2 == 1, owner: owner).get())
            let matrix = WeightMatrix(rows: n, columns: k, int8: owner.raw, scales: scales, owner: owner, matmul: matmul)
            let widened = matrix.float32()
            for r in 0..<n { for j in 0..<k { XCTAssertEqual(widened[r * k + j], scales[r] * Float(values[r * k + j])) } }
            let bias = withBias ? (0..<n).map { _ in Float.random(in: -1...1, using: &rng) } : nil
            let linear = Linear(matrix: matrix, bias: bias)
            let x = (0..<(m * k)).map { _ in Float.random(in: -1...1, using: &rng) }
            let out = linear(x, rows: m)
            let perToken = m > Linear.fusedHalfRows
            let integer = perToken || k % 32 == 0
            let block = perToken ? k : 32
            let tokens = Int8Matmul.quantizeActivations(x, rows: m, columns: k)
            for i in 0..<m {
                var xq = [Int8](repeating: 0, count: k), xs = [Float](repeating: 0, count: k / block)
                if perToken {
                    xq = Array(tokens.q[(i * k)..<(i * k + k)])
                    xs = [tokens.scales[i]]
                } else if integer {
                    x.withUnsafeBufferPointer { flamingo_i8_quantize_blocks($0.baseAddress! + i * k, k, &xq, &xs) }
                }
                for r in 0..<n {
                    var float = bias?[r] ?? 0
                    for j in 0..<k { float += widened[r * k + j] * x[i * k + j] }
                    let got = out[i * n + r]
                    guard integer else {
                        XCTAssertEqual(got, float, accuracy: 2e-5 * Float(k).squareRoot(), "m=\(m) k=\(k) n=\(n) row \(i) column \(r)")
                        continue
                    }
                    var twin: Float = 0, bound: Float = 0
                    for b in 0..<(k / block) {
                        var sum = 0, magnitude: Float = 0
                        for j in (block * b)..<(block * b + block) {
                            sum += Int(values[r * k + j]) * Int(xq[j])
                            magnitude += abs(widened[r * k + j])
                        }
                        twin += xs[b] * Float(sum)
                        bound += xs[b] / 2 * magnitude
                    }
                    twin = scales[r] * twin + (bias?[r] ?? 0)
                    XCTAssertEqual(got, twin, accuracy: 1e-5 * max(1, abs(twin)), "integer twin m=\(m) k=\(k) n=\(n) row \(i) column \(r)")
                    XCTAssertLessThanOrEqual(abs(got - float), bound * 1.0001 + 1e-5, "bound m=\(m) k=\(k) n=\(n) row \(i) column \(r)")
                }
            }
            var acc = [Float](repeating: 1, count: m * n)
            x.withUnsafeBufferPointer { xp in acc.withUnsafeMutableBufferPointer { linear.apply(xp.baseAddress!, rows: m, into: $0.baseAddress!, accumulate: true) } }
            for i in 0..<(m * n) { XCTAssertEqual(acc[i], out[i] + 1, accuracy: 1e-4, "accumulate m=\(m)") }
        }
    }
}
