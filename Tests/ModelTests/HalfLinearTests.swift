import TestSupport
import XCTest
@testable import Model
@testable import Weights

/// `Linear` with F16 and BF16 weights at rest, on both of its paths (the fused
/// matrix-vector kernel for up to `fusedHalfRows` input rows, widened tiles and
/// sgemm above), against a naive product of the widened weights. Sizes include
/// k not a multiple of 8 or 32 (the kernel's scalar tail) and bias on and off.
final class HalfLinearTests: XCTestCase {
    func testHalfWeightsMatchTheWidenedProduct() {
        var rng = SplitMix64(seed: 16)
        for bfloat16 in [false, true] {
            for (m, k, n, withBias) in [(1, 64, 33, true), (3, 77, 40, false), (8, 256, 19, true), (9, 40, 300, true), (17, 50, 101, false), (20, 35, 7, false)] {
                let values = (0..<(n * k)).map { _ in Float.random(in: -1...1, using: &rng) }
                let bits: [UInt16] = values.map { bfloat16 ? UInt16($0.bitPattern >> 16) : Float16($0).bitPattern }
                let owner = PinnedBuffer(bits)
                let matrix = WeightMatrix(rows: n, columns: k, half: owner.raw, bfloat16: bfloat16, owner: owner)
                let widened = matrix.float32()
                let bias = withBias ? (0..<n).map { _ in Float.random(in: -1...1, using: &rng) } : nil
                let linear = Linear(matrix: matrix, bias: bias)
                let x = (0..<(m * k)).map { _ in Float.random(in: -1...1, using: &rng) }
                let out = linear(x, rows: m)
                for i in 0..<m {
                    for r in 0..<n {
                        var expected = bias?[r] ?? 0
                        for j in 0..<k { expected += widened[r * k + j] * x[i * k + j] }
                        XCTAssertEqual(out[i * n + r], expected, accuracy: 1e-4 * Float(k).squareRoot(),
                                       "bf16=\(bfloat16) m=\(m) k=\(k) n=\(n) row \(i) column \(r)")
                    }
                }
                // Accumulating into an existing output adds the product (and the bias) to it.
                var acc = [Float](repeating: 1, count: m * n)
                x.withUnsafeBufferPointer { xp in acc.withUnsafeMutableBufferPointer { linear.apply(xp.baseAddress!, rows: m, into: $0.baseAddress!, accumulate: true) } }
                for i in 0..<(m * n) { XCTAssertEqual(acc[i], out[i] + 1, accuracy: 1e-4, "accumulate bf16=\(bfloat16) m=\(m)") }
            }
        }
    }
}
