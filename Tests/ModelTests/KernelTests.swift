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

/// The vectorised exp and the kernels built on it, against libm.
final class FastMathTests: XCTestCase {
    func testExpRelativeErrorAcrossTheRange() {
        var worst: Float = 0
        var x: Float = -87
        while x < 88 {
            let v = FastMath.exp(FastMath.Vector(repeating: x))[0]
            worst = max(worst, abs(v - expf(x)) / expf(x))
            x += 0.0137
        }
        XCTAssertLessThan(worst, 5e-7)
        XCTAssertEqual(FastMath.exp(FastMath.Vector(repeating: -200))[0], 0, accuracy: 1e-37)
    }

    func testQuickGeluAndSoftmaxMatchScalarVersions() {
        var values = (0..<1000).map { Float($0) / 37 - 13 }
        let expected = values.map { $0 / (1 + expf(-1.702 * $0)) }
        Ops.quickGelu(&values, count: values.count)
        for (a, b) in zip(values, expected) { XCTAssertEqual(a, b, accuracy: 1e-5 * max(1, abs(b))) }
        var row = (0..<37).map { Float($0 % 7) - 3 }
        let m = row.max()!, sum = row.reduce(0) { $0 + expf($1 - m) }
        let reference = row.map { expf($0 - m) / sum }
        Ops.softmaxRows(&row, rows: 1, columns: 37)
        for (a, b) in zip(row, reference) { XCTAssertEqual(a, b, accuracy: 1e-6) }
    }
}
