import Cluster
import Foundation
import XCTest

final class VideoIdentityTests: XCTestCase {
    private var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("identity-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    private func write(_ bytes: [UInt8], _ name: String, mtime: Date = Date(timeIntervalSince1970: 1_700_000_000)) throws -> String {
        let path = dir.appendingPathComponent(name).path
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        try FileManager.default.setAttributes([.modificationDate: mtime], ofItemAtPath: path)
        return path
    }

    func testSameBytesAndTimesAreTheSameContentWherever() throws {
        let bytes = (0..<500_000).map { UInt8(truncatingIfNeeded: $0 &* 7919) }
        let a = try XCTUnwrap(VideoIdentity.of(file: try write(bytes, "a.mp4"), share: "s", relative: "x/a.mp4"))
        let b = try XCTUnwrap(VideoIdentity.of(file: try write(bytes, "b.mp4"), share: "s", relative: "x/a.mp4"))
        XCTAssertEqual(a, b, "identity does not depend on the inode or the host's path")
        XCTAssertEqual(a.size, 500_000)
        XCTAssertEqual(a.label, "s:x/a.mp4")
    }

    func testAChangeInAnySampledBlockOrTheMtimeIsANewIdentity() throws {
        let bytes = (0..<500_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let original = try XCTUnwrap(VideoIdentity.of(file: try write(bytes, "v.mp4"), share: "s", relative: "v.mp4"))
        for offset in [10, 250_000, 499_990] {
            var changed = bytes
            changed[offset] ^= 0xFF
            let other = try XCTUnwrap(VideoIdentity.of(file: try write(changed, "v.mp4"), share: "s", relative: "v.mp4"))
            XCTAssertNotEqual(other.contentHash, original.contentHash, "byte \(offset) changed")
            XCTAssertEqual(other.mtimeNs, original.mtimeNs)
        }
        let touched = try XCTUnwrap(VideoIdentity.of(file: try write(bytes, "v.mp4", mtime: Date(timeIntervalSince1970: 1_700_000_001)),
                                                     share: "s", relative: "v.mp4"))
        XCTAssertNotEqual(touched, original)
        XCTAssertEqual(touched.contentHash, original.contentHash)
    }

    func testSmallFilesAndMissingFiles() throws {
        let small = try XCTUnwrap(VideoIdentity.of(file: try write([1, 2, 3], "s.mp4"), share: "s", relative: "s.mp4"))
        XCTAssertEqual(small.size, 3)
        XCTAssertNil(VideoIdentity.of(file: dir.appendingPathComponent("missing.mp4").path, share: "s", relative: "missing.mp4"))
    }
}
