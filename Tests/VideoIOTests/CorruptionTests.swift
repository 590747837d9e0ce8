import Foundation
import TestSupport
import XCTest
@testable import VideoIO

/// Hundreds of randomly damaged copies of real files (bit flips, overwritten,
/// zeroed and duplicated chunks, truncation) across containers and codecs.
/// Each must either give at least one well-formed frame, or throw a typed
/// error naming the file; nothing may crash or hang (deadline 20 s each).
final class CorruptionTests: XCTestCase {
    static let variantsPerFile = 75

    func testRandomlyCorruptedAndTruncatedFiles() throws {
        let dir = try Fixtures.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        var limits = VideoReaderLimits()
        limits.deadlineSeconds = 20
        var rng = SplitMix64(seed: 2022)
        var outcomes: [String: Int] = [:]
        var total = 0
        for name in ["small.mp4", "small.webm", "small.avi", "small.ts"] {
            let original = [UInt8](try Data(contentsOf: URL(fileURLWithPath: try Fixtures.path(name))))
            for v in 0..<Self.variantsPerFile {
                let bytes = Self.damage(original, variant: v, rng: &rng)
                let path = dir.appendingPathComponent("v\(v)-\(name)").path
                try Data(bytes).write(to: URL(fileURLWithPath: path))
                total += 1
                switch Result(catching: { () throws(VideoIOError) -> SampledVideo in
                    try VideoReader(path: path, limits: limits).sample(SamplingOptions(size: 16))
                }) {
                case .success(let video):
                    XCTAssertGreaterThan(video.frames.count, 0, path)
                    XCTAssertEqual(video.rgb.count, video.frames.count * 16 * 16 * 3, path)
                    XCTAssertEqual(video.frames.map(\.index), Array(0..<video.frames.count), path)
                    outcomes[video.warnings.isEmpty ? "ok" : "ok with warnings", default: 0] += 1
                case .failure(let error):
                    XCTAssertTrue(error.localizedDescription.hasPrefix(path + ":"), error.localizedDescription)
                    XCTAssertNotEqual(error.code, "timed_out", "\(path) hung")
                    outcomes[error.code, default: 0] += 1
                }
                try? FileManager.default.removeItem(atPath: path)
            }
        }
        XCTAssertEqual(total, 4 * Self.variantsPerFile)
        print("corruption outcomes over \(total) variants: \(outcomes.sorted { $0.key < $1.key })")
        // The mix must include both survivals and refusals, or the damage is not doing anything.
        XCTAssertGreaterThan(outcomes.filter { $0.key.hasPrefix("ok") }.values.reduce(0, +), total / 10)
        XCTAssertGreaterThan(outcomes.filter { !$0.key.hasPrefix("ok") }.values.reduce(0, +), total / 20)
    }

    static func damage(_ original: [UInt8], variant: Int, rng: inout SplitMix64) -> [UInt8] {
        var bytes = original
        let n = bytes.count
        switch variant % 6 {
        case 0:  // flip a few random bits
            for _ in 0..<Int.random(in: 1...40, using: &rng) {
                bytes[Int.random(in: 0..<n, using: &rng)] ^= UInt8(1 << Int.random(in: 0..<8, using: &rng))
            }
        case 1:  // overwrite a chunk with random bytes
            let start = Int.random(in: 0..<n, using: &rng)
            for i in start..<min(n, start + Int.random(in: 1...2048, using: &rng)) { bytes[i] = UInt8.random(in: 0...255, using: &rng) }
        case 2:  // zero a chunk
            let start = Int.random(in: 0..<n, using: &rng)
            for i in start..<min(n, start + Int.random(in: 1...4096, using: &rng)) { bytes[i] = 0 }
        case 3:  // truncate
            bytes = Array(bytes.prefix(Int.random(in: 1..<n, using: &rng)))
        case 4:  // duplicate a chunk in place of another
            let a = Int.random(in: 0..<n, using: &rng), b = Int.random(in: 0..<n, using: &rng)
            let len = min(Int.random(in: 1...1024, using: &rng), n - max(a, b))
            for i in 0..<len { bytes[b + i] = original[a + i] }
        default:  // damage the header region, where the container's structure lives
            for _ in 0..<Int.random(in: 1...8, using: &rng) {
                bytes[Int.random(in: 0..<min(n, 512), using: &rng)] = UInt8.random(in: 0...255, using: &rng)
            }
        }
        return bytes
    }
}
