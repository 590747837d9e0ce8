import XCTest
@testable import Tensor

/// BLAS wrappers against naive loops (gemm and the gemv path for one row).
final class KernelTests: XCTestCase {
    func testLinearMatchesNaiveForManyRowsAndOneRow() {
        var rng = SystemRandomNumberGenerator()
        for (m, k, n) in [(5, 7, 3), (1, 64, 33), (17, 32, 48)] {
            let x = (0..<(m * k)).map { _ in Float.random(in: -1...1, using: &rng) }
            let w = (0..<(n * k)).map { _ in Float.random(in: -1...1, using: &rng) }
            let b = (0..<n).map { _ in Float.random(in: -1...1, using: &rng) }
            let expected = Naive.linear(x, rows: m, inFeatures: k, weight: w, outFeatures: n, bias: b)
            var out = [Float](repeating: 0, count: m * n)
            BLAS.linear(x, rows: m, inFeatures: k, weight: w, outFeatures: n, bias: b, into: &out)
            for i in 0..<out.count { XCTAssertEqual(out[i], expected[i], accuracy: 1e-4, "m=\(m) k=\(k) n=\(n) i=\(i)") }
        }
    }

    func testSoftmaxAllMaskedRowIsUniform() {
        var row: [Float] = [-.infinity, -.infinity, -.infinity, -.infinity]
        Ops.softmaxRows(&row, rows: 1, columns: 4)
        XCTAssertEqual(row, [0.25, 0.25, 0.25, 0.25])
        var other: [Float] = [0, 1, -.infinity]
        Ops.softmaxRows(&other, rows: 1, columns: 3)
        XCTAssertEqual(other[0], 1 / (1 + expf(1)), accuracy: 1e-6)
        XCTAssertEqual(other[2], 0)
    }
}
