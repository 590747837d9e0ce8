import Foundation
import TestSupport
import XCTest
@testable import VideoIO

/// Each kind of bad input gives its own typed error, whose message names the
/// file and says what is wrong.
final class BadInputTests: XCTestCase {
    private var dir: URL!

    override func setUpWithError() throws { dir = try Fixtures.scratch() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    private func expect(
        _ path: String, limits: VideoReaderLimits = VideoReaderLimits(), _ expected: VideoIOError,
        file: StaticString = #filePath, line: UInt = #line
    ) {
        XCTAssertThrowsError(try VideoReader(path: path, limits: limits).sample(SamplingOptions(size: 32)),
                             file: file, line: line) { error in
            XCTAssertEqual(error as? VideoIOError, expected, file: file, line: line)
            XCTAssertTrue(error.localizedDescription.hasPrefix(path + ":"),
                          "message must start with the file: \(error.localizedDescription)", file: file, line: line)
        }
    }

    private func file(_ name: String, _ bytes: [UInt8]) throws -> String {
        let url = dir.appendingPathComponent(name)
        try Data(bytes).write(to: url)
        return url.path
    }

    func testMissingFile() {
        let path = dir.appendingPathComponent("nope.mp4").path
        expect(path, .fileNotFound(path: path))
    }

    func testDirectoryAndFIFOAreNotRegularFiles() throws {
        let sub = dir.appendingPathComponent("d.mp4")
        try FileManager.default.createDirectory(at: sub, withIntermediateDirectories: true)
        expect(sub.path, .notARegularFile(path: sub.path, kind: "directory"))
        let fifo = dir.appendingPathComponent("pipe.mp4").path
        XCTAssertEqual(mkfifo(fifo, 0o644), 0)
        expect(fifo, .notARegularFile(path: fifo, kind: "named pipe"))  // and the open does not block
    }

    func testSymbolicLinksAreRefusedUnlessAllowed() throws {
        let link = dir.appendingPathComponent("link.mp4").path
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: try Fixtures.path("small.mp4"))
        expect(link, .symbolicLinkRefused(path: link))
        var limits = VideoReaderLimits()
        limits.followSymbolicLinks = true
        XCTAssertEqual(try VideoReader(path: link, limits: limits).sample(SamplingOptions(size: 32)).frames.count, 3)
    }

    func testUnreadableFile() throws {
        try XCTSkipIf(getuid() == 0, "root reads files whatever their mode")
        let path = try file("locked.mp4", [1, 2, 3])
        chmod(path, 0)
        expect(path, .unreadable(path: path, reason: "Permission denied"))
    }

    func testEmptyFile() throws {
        let path = try file("empty.mp4", [])
        expect(path, .emptyFile(path: path))
    }

    func testTextAndRandomBytesAreNotVideos() throws {
        let text = try file("notes.mp4", Array("just some text, not a video\n".utf8))
        XCTAssertThrowsError(try VideoReader(path: text).sample()) { error in
            guard case .notAVideo(let p, _) = error as? VideoIOError else { return XCTFail("\(error)") }
            XCTAssertEqual(p, text)
        }
        var rng = SplitMix64(seed: 7)
        let noise = try file("noise.mkv", (0..<20000).map { _ in UInt8(truncatingIfNeeded: rng.next()) })
        XCTAssertThrowsError(try VideoReader(path: noise).sample()) { error in
            XCTAssertEqual((error as? VideoIOError)?.code, "not_a_video", "\(error)")
        }
    }

    func testAudioOnlyHasNoVideoStream() throws {
        let path = try Fixtures.path("audio.m4a")
        expect(path, .noVideoStream(path: path))
    }

    func testCodecOutsideTheAllowListIsUnsupported() throws {
        let path = try Fixtures.path("huffyuv.avi")
        expect(path, .unsupportedCodec(path: path, codec: "huffyuv"))
    }

    func testLimits() throws {
        let path = try Fixtures.path("cfr.mp4")  // 4 s, 320x240, 120 packets
        var limits = VideoReaderLimits()
        limits.maxDurationSeconds = 2
        // Refused at the first packet past the limit (frame 61 of 30 fps), not after reading the file.
        XCTAssertThrowsError(try VideoReader(path: path, limits: limits).sample(SamplingOptions(size: 32))) { error in
            guard case .tooLong(path, let seconds, 2) = error as? VideoIOError else { return XCTFail("\(error)") }
            XCTAssertEqual(seconds, 61.0 / 30, accuracy: 1e-9)
            XCTAssertEqual(error.localizedDescription, "\(path): lasts at least 2.03 s, over the limit of 2.00 s")
        }

        limits = VideoReaderLimits()
        limits.maxDimension = 256
        expect(path, limits: limits, .resolutionTooLarge(path: path, width: 320, height: 240,
                                                         limit: "256 px a side, \(limits.maxPixels) pixels"))
        limits = VideoReaderLimits()
        let size = try XCTUnwrap(FileManager.default.attributesOfItem(atPath: path)[.size] as? Int64)
        limits.maxFileBytes = 1000
        expect(path, limits: limits, .fileTooLarge(path: path, bytes: size, limit: 1000))

        limits = VideoReaderLimits()
        limits.maxPackets = 50
        expect(path, limits: limits, .tooManyPackets(path: path, limit: 50))

        limits = VideoReaderLimits()
        limits.deadlineSeconds = 1e-7
        expect(path, limits: limits, .timedOut(path: path, seconds: 1e-7))
    }

    func testDurationLimitIsCheckedAgainstPacketTimestampsNotOnlyTheHeader() throws {
        // mpegts declares no reliable duration up front; the packets reveal it.
        let path = try Fixtures.path("offset.ts")
        var limits = VideoReaderLimits()
        limits.maxDurationSeconds = 2.5
        XCTAssertThrowsError(try VideoReader(path: path, limits: limits).sample()) { error in
            XCTAssertEqual((error as? VideoIOError)?.code, "too_long", "\(error)")
        }
    }

    func testNoDecodableFrameIsCorrupt() throws {
        // Keep the header (moov first), zero every byte of the media data.
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: try Fixtures.path("faststart.mp4"))))
        let mdat = try XCTUnwrap(Self.find(Array("mdat".utf8), in: bytes))
        for i in (mdat + 4)..<bytes.count { bytes[i] = 0 }
        let path = try file("zeroed.mp4", bytes)
        XCTAssertThrowsError(try VideoReader(path: path).sample()) { error in
            guard case .corrupt(let p, let decodable, let packets, _) = error as? VideoIOError else { return XCTFail("\(error)") }
            XCTAssertEqual(p, path)
            XCTAssertEqual(decodable, 0)
            XCTAssertEqual(packets, 150)
            XCTAssertTrue(error.localizedDescription.contains("0 frame(s) decodable"))
        }
    }

    func testTruncatedFileYieldsTheFramesBeforeTheDamageWithAWarning() throws {
        let full = try Data(contentsOf: URL(fileURLWithPath: try Fixtures.path("faststart.mp4")))
        let path = try file("cut.mp4", [UInt8](full.prefix(full.count / 2)))
        let video = try VideoReader(path: path).sample(SamplingOptions(size: 32))
        XCTAssertGreaterThanOrEqual(video.frames.count, 2)
        XCTAssertLessThan(video.frames.count, 6)
        XCTAssertEqual(video.frames.map(\.timeSeconds), (0..<video.frames.count).map(Double.init))
        XCTAssertFalse(video.warnings.isEmpty)
        XCTAssertTrue(video.warnings.joined().contains("truncated"), "\(video.warnings)")
    }

    func testInvalidOptions() {
        XCTAssertThrowsError(try VideoReader(path: "/x").sample(SamplingOptions(fps: 0))) { error in
            XCTAssertEqual((error as? VideoIOError)?.code, "invalid_options")
        }
        XCTAssertThrowsError(try VideoReader(path: "/x").sample(SamplingOptions(maxFrames: 0))) { error in
            XCTAssertEqual((error as? VideoIOError)?.code, "invalid_options")
        }
    }

    static func find(_ needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        for i in 0...(haystack.count - needle.count) where haystack[i..<(i + needle.count)].elementsEqual(needle) {
            return i
        }
        return nil
    }
}
