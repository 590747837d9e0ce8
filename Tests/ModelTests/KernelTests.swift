import TestSupport
import XCTest
@testable import Tensor

/// BLAS wrappers against naive loops (gemm and the gemv path for one row).
final class KernelTests: XCTestCase {
    func testLinearMatchesNaiveForManyRowsAndOneRow() {
        var rng = SplitMix64(seed: 7)
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

/// The vectorised kernels (CKernels) against libm and scalar loops, at lengths with and without a partial
/// last vector, once for each instruction set this CPU has (AVX-512, AVX2, baseline).
final class VectorKernelTests: XCTestCase {
    /// Runs `check` with each implementation this CPU can run, then goes back to the widest.
    private func forEachInstructionSet(_ check: () -> Void) {
        var ran: [String] = []
        for isa in ["baseline", "avx2", "avx512"] where Ops.selectVectorInstructionSet(isa) {
            ran.append(isa)
            XCTAssertEqual(Ops.vectorInstructionSet, isa)
            let failures = testRun?.failureCount ?? 0
            check()
            if (testRun?.failureCount ?? 0) > failures { XCTFail("the failures above are with the \(isa) kernels") }
        }
        XCTAssertTrue(ran.contains("baseline"))
        _ = Ops.selectVectorInstructionSet(ran.last ?? "baseline")
    }

    func testExpRelativeErrorAcrossTheRange() { forEachInstructionSet({ checkExpRelativeErrorAcrossTheRange() }) }
    func testQuickGeluAndSoftmaxMatchScalarVersions() { forEachInstructionSet({ checkQuickGeluAndSoftmaxMatchScalarVersions() }) }
    func testSoftmaxRowsWithStrideLeaveTheGapAlone() { forEachInstructionSet({ checkSoftmaxRowsWithStrideLeaveTheGapAlone() }) }
    func testGeluMatchesTheExactErfVersion() { forEachInstructionSet({ checkGeluMatchesTheExactErfVersion() }) }
    func testQuickGeluWithBiasAddsTheBiasPerColumnFirst() { forEachInstructionSet({ checkQuickGeluWithBiasAddsTheBiasPerColumnFirst() }) }
    func testLayerNormMatchesTwoPassDouble() { forEachInstructionSet({ checkLayerNormMatchesTwoPassDouble() }) }
    func testDecodeAttentionMatchesNaiveLoops() { forEachInstructionSet({ checkDecodeAttentionMatchesNaiveLoops() }) }

    private func checkExpRelativeErrorAcrossTheRange() {
        var x: [Float] = []
        var v: Float = -87
        while v < 88 { x.append(v); v += 0.0137 }
        var y = [Float](repeating: 0, count: x.count)
        Ops.exp(x, into: &y, count: x.count)
        var worst: Float = 0
        for (a, b) in zip(x, y) { worst = max(worst, abs(b - expf(a)) / expf(a)) }
        XCTAssertLessThan(worst, 5e-7, Ops.vectorInstructionSet)
        var low: [Float] = [-200, -.infinity, -87.5]
        Ops.exp(low, into: &low, count: 3)
        XCTAssertEqual(low, [0, 0, 0])
    }

    private func checkQuickGeluAndSoftmaxMatchScalarVersions() {
        for count in [1000, 7, 16, 33] {
            var values = (0..<count).map { Float($0) / 37 - 13 }
            let expected = values.map { $0 / (1 + expf(-1.702 * $0)) }
            Ops.quickGelu(&values, count: values.count)
            for (a, b) in zip(values, expected) { XCTAssertEqual(a, b, accuracy: 1e-5 * max(1, abs(b)), "count \(count)") }
        }
        for n in [37, 16, 5, 197] {
            var row = (0..<n).map { Float($0 % 7) - 3 }
            let m = row.max()!, sum = row.reduce(0) { $0 + expf($1 - m) }
            let reference = row.map { expf($0 - m) / sum }
            Ops.softmaxRows(&row, rows: 1, columns: n)
            for (a, b) in zip(row, reference) { XCTAssertEqual(a, b, accuracy: 1e-6, "n \(n)") }
        }
    }

    private func checkSoftmaxRowsWithStrideLeaveTheGapAlone() {
        // Two rows of 19 in a buffer with stride 24: the 5 values after each row are untouched.
        var x = (0..<48).map { Float($0 % 11) * 0.3 }
        let before = x
        Ops.softmaxRows(&x, rows: 2, columns: 19, stride: 24)
        for r in 0..<2 {
            let row = before[(r * 24)..<(r * 24 + 19)], m = row.max()!
            let sum = row.reduce(0) { $0 + expf($1 - m) }
            for j in 0..<19 { XCTAssertEqual(x[r * 24 + j], expf(before[r * 24 + j] - m) / sum, accuracy: 1e-6) }
            XCTAssertEqual(Array(x[(r * 24 + 19)..<(r * 24 + 24)]), Array(before[(r * 24 + 19)..<(r * 24 + 24)]))
        }
    }

    private func checkGeluMatchesTheExactErfVersion() {
        for count in [20001, 5] {
            var values = (0..<count).map { Float($0) / Float(count) * 20 - 10 }
            let expected = values.map { v in 0.5 * Double(v) * (1 + erf(Double(v) / 2.0.squareRoot())) }
            Ops.gelu(&values, count: values.count)
            for (a, b) in zip(values, expected) { XCTAssertEqual(Double(a), b, accuracy: 1e-6 * max(1, abs(b)), "count \(count)") }
        }
    }

    private func checkQuickGeluWithBiasAddsTheBiasPerColumnFirst() {
        let rows = 300, columns = 37
        let x = (0..<(rows * columns)).map { Float(($0 * 7919) % 1000) / 100 - 5 }
        let bias = (0..<columns).map { Float($0) / 10 - 2 }
        var out = x
        Ops.quickGelu(&out, count: out.count, bias: bias, columns: columns)
        for i in 0..<x.count {
            let v = x[i] + bias[i % columns], expected = v / (1 + expf(-1.702 * v))
            XCTAssertEqual(out[i], expected, accuracy: 1e-5 * max(1, abs(expected)))
        }
    }

    private func checkDecodeAttentionMatchesNaiveLoops() {
        // One query, heads as column slices of packed rows, head dims with and without a partial vector.
        for (keys, heads, d) in [(37, 3, 64), (5, 2, 24), (1, 1, 7), (96, 12, 64)] {
            let width = heads * d, ld = 2 * width + 3
            let q = (0..<width).map { Float(($0 * 37) % 101) / 50 - 1 }
            let kv = (0..<(keys * ld)).map { Float(($0 * 7919) % 1000) / 500 - 1 }
            let scale = 1 / Float(d).squareRoot()
            var out = [Float](repeating: .nan, count: width)
            q.withUnsafeBufferPointer { qp in
                kv.withUnsafeBufferPointer { kp in
                    Attention.compute(q: qp.baseAddress!, ldq: width, k: kp.baseAddress!, ldk: ld, v: kp.baseAddress! + width, ldv: ld,
                                      queries: 1, keys: keys, heads: heads, headDim: d, scale: scale, out: &out, ldo: width)
                }
            }
            for h in 0..<heads {
                let scores = (0..<keys).map { j in (0..<d).reduce(0.0) { $0 + Double(q[h * d + $1]) * Double(kv[j * ld + h * d + $1]) } * Double(scale) }
                let m = scores.max()!, weights = scores.map { Foundation.exp($0 - m) }, total = weights.reduce(0, +)
                for t in 0..<d {
                    let expected = (0..<keys).reduce(0.0) { $0 + weights[$1] / total * Double(kv[$1 * ld + width + h * d + t]) }
                    XCTAssertEqual(Double(out[h * d + t]), expected, accuracy: 1e-5, "keys \(keys) heads \(heads) d \(d)")
                }
            }
        }
    }

    private func checkLayerNormMatchesTwoPassDouble() {
        for (rows, n) in [(3, 768), (5, 37), (2000, 20), (1, 3)] {
            let x = (0..<(rows * n)).map { Float(($0 * 2654435761 % 1000)) / 250 - 2 }
            let w = (0..<n).map { 1 + Float($0 % 5) / 10 }, b = (0..<n).map { Float($0 % 3) - 1 }
            var inPlace = x, out = [Float](repeating: .nan, count: rows * n), noBias = [Float](repeating: .nan, count: rows * n)
            Ops.layerNorm(&inPlace, rows: rows, columns: n, weight: w, bias: b, eps: 1e-5)
            Ops.layerNorm(x, into: &out, rows: rows, columns: n, weight: w, bias: b, eps: 1e-5)
            Ops.layerNorm(x, into: &noBias, rows: rows, columns: n, weight: w, bias: nil, eps: 1e-5)
            for r in 0..<rows {
                let row = x[(r * n)..<((r + 1) * n)].map(Double.init)
                let mean = row.reduce(0, +) / Double(n)
                let variance = row.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(n)
                for j in 0..<n {
                    let normed = (row[j] - mean) / (variance + 1e-5).squareRoot() * Double(w[j])
                    XCTAssertEqual(Double(out[r * n + j]), normed + Double(b[j]), accuracy: 1e-5, "rows \(rows) n \(n)")
                    XCTAssertEqual(Double(noBias[r * n + j]), normed, accuracy: 1e-5)
                }
            }
            XCTAssertEqual(inPlace, out)
        }
    }
}

/// The OpenBLAS environment the CLI re-executes with.
final class BLASEnvironmentTests: XCTestCase {
    func testSettingsRespectTheUsersValuesAndOnlyForceKernelsOnGenericCores() {
        let avx512: Set<String> = ["avx2", "fma", "avx512f", "avx512dq", "avx512bw", "avx512vl", "avx512cd"]
        let names = { (s: [(String, String)]) in s.map { "\($0.0)=\($0.1)" } }
        XCTAssertEqual(names(BLASEnvironment.settings(environment: [:], cpuFlags: avx512, current: "Prescott")),
                       ["OPENBLAS_CORETYPE=SkylakeX", "OPENBLAS_THREAD_TIMEOUT=4"])
        XCTAssertEqual(names(BLASEnvironment.settings(environment: [:], cpuFlags: ["avx2", "fma"], current: "Prescott")),
                       ["OPENBLAS_CORETYPE=Haswell", "OPENBLAS_THREAD_TIMEOUT=4"])
        XCTAssertEqual(names(BLASEnvironment.settings(environment: [:], cpuFlags: avx512, current: "SkylakeX")),
                       ["OPENBLAS_THREAD_TIMEOUT=4"])
        XCTAssertEqual(names(BLASEnvironment.settings(environment: ["OPENBLAS_CORETYPE": "Zen", "OPENBLAS_THREAD_TIMEOUT": "28"],
                                                      cpuFlags: avx512, current: "Prescott")), [])
    }
}
