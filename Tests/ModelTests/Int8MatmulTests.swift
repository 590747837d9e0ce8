import Foundation
import TestSupport
import XCTest
@testable import Weights

/// oneDNN's int8 matmul (Sources/CInt8Matmul, docs/QUANTIZATION.md): its integer product is exact (a
/// naive int32 twin, every element equal), for packed and in-place weights, at row counts from 1 to a
/// batch of frames, from several threads at once; and the per-token input quantization rounds as
/// documented.
final class Int8MatmulTests: XCTestCase {
    func testIntegerProductEqualsTheNaiveTwinExactly() throws {
        var rng = SplitMix64(seed: 15)
        for (n, k) in [(33, 77), (256, 768), (7, 3), (300, 130)] {
            let w = (0..<(n * k)).map { _ in Int8.random(in: -127...127, using: &rng) }
            let owner = PinnedBuffer(w)
            for pack in [false, true] {
                let matmul = try Int8Matmul.make(weights: owner.raw.assumingMemoryBound(to: Int8.self), rows: n, columns: k,
                                                 pack: pack, owner: owner).get()
                XCTAssertEqual(matmul.isPacked, pack)
                for m in [1, 5, 64, 197] + (n * k < 10_000 ? [1000] : []) {
                    let x = (0..<(m * k)).map { _ in Int8.random(in: -127...127, using: &rng) }
                    let got = try matmul.integerProduct(x, inputRows: m)
                    var mismatches = 0
                    for i in 0..<m {
                        for r in 0..<n {
                            var sum: Int32 = 0
                            for j in 0..<k { sum += Int32(x[i * k + j]) * Int32(w[r * k + j]) }
                            if got[i * n + r] != sum { mismatches += 1 }
                        }
                    }
                    XCTAssertEqual(mismatches, 0, "n=\(n) k=\(k) m=\(m) pack=\(pack)")
                }
            }
        }
    }

    /// The same product from four threads at once (the evaluator encodes clips in parallel), each with
    /// oneDNN held to one thread, equals the product computed alone.
    func testConcurrentCallsAgree() throws {
        var rng = SplitMix64(seed: 16)
        let (n, k, m) = (96, 160, 48)
        let w = (0..<(n * k)).map { _ in Int8.random(in: -127...127, using: &rng) }
        let owner = PinnedBuffer(w)
        let matmul = try Int8Matmul.make(weights: owner.raw.assumingMemoryBound(to: Int8.self), rows: n, columns: k,
                                         pack: true, owner: owner).get()
        let inputs = (0..<4).map { _ in (0..<(m * k)).map { _ in Int8.random(in: -127...127, using: &rng) } }
        let alone = try inputs.map { try matmul.integerProduct($0, inputRows: m) }
        let results = ResultBox(count: inputs.count)
        DispatchQueue.concurrentPerform(iterations: 4 * inputs.count) { i in
            let product = try? matmul.integerProduct(inputs[i % inputs.count], inputRows: m, threads: 1)
            results.append(i % inputs.count, product)
        }
        for i in 0..<inputs.count {
            let got = results.get(i)
            XCTAssertEqual(got.count, 4)
            XCTAssertTrue(got.allSatisfy { $0 == alone[i] }, "input \(i)")
        }
    }

    func testActivationsAreQuantizedPerRowWithTiesToEven() {
        // Row 0: max 127 (scale 1): 2.5 -> 2, 3.5 -> 4, -0.5 -> 0 (ties to even); row 1 all zero; row 2: scale
        // from its largest magnitude, which maps to -127; a long row (the vector path) against the scalar rule.
        var rng = SplitMix64(seed: 17)
        let long = (0..<100).map { _ in Float.random(in: -3...3, using: &rng) }
        let k = 100
        var x = [Float](repeating: 0, count: 3 * k)
        x[0] = 127; x[1] = 2.5; x[2] = 3.5; x[3] = -0.5
        for j in 0..<k { x[2 * k + j] = long[j] }
        let (q, scales) = Int8Matmul.quantizeActivations(x, rows: 3, columns: k)
        XCTAssertEqual(scales[0], 1)
        XCTAssertEqual(Array(q[0..<4]), [127, 2, 4, 0])
        XCTAssertEqual(scales[1], 0)
        XCTAssertTrue(q[k..<(2 * k)].allSatisfy { $0 == 0 })
        let amax = long.map(abs).max() ?? 0
        XCTAssertEqual(scales[2], amax / 127)
        for j in 0..<k {
            XCTAssertEqual(q[2 * k + j], Int8((long[j] * (127 / amax)).rounded(.toNearestOrEven)), "column \(j)")
        }
    }

    func testTheImplementationIsNamed() {
        XCTAssertFalse(Int8Matmul.implementation.isEmpty)
    }
}

/// Results appended from concurrent iterations.
private final class ResultBox: @unchecked Sendable {
    private var values: [[[Int32]?]]
    private let lock = NSLock()
    init(count: Int) { values = Array(repeating: [], count: count) }
    func append(_ i: Int, _ value: [Int32]?) {
        lock.lock()
        defer { lock.unlock() }
        values[i].append(value)
    }
    func get(_ i: Int) -> [[Int32]?] {
        lock.lock()
        defer { lock.unlock() }
        return values[i]
    }
}
