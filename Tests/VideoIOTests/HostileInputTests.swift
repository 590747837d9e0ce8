import CFFmpeg
import Foundation
import Glibc
import XCTest
@testable import VideoIO

/// Files that try to make FFmpeg read something else: an HLS playlist and a
/// concat script saved as `x.mp4`, pointing at a real local video and at
/// /etc/passwd. They must be refused, and inotify must see no access at all
/// to the files they point at.
final class HostileInputTests: XCTestCase {
    /// Watches files for IN_OPEN / IN_ACCESS while `body` runs; returns the event count.
    private func accesses(to paths: [String], during body: () throws -> Void) throws -> Int {
        let fd = inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC))
        XCTAssertGreaterThanOrEqual(fd, 0)
        defer { close(fd) }
        for p in paths {
            XCTAssertGreaterThanOrEqual(inotify_add_watch(fd, p, UInt32(IN_OPEN | IN_ACCESS)), 0, "watch \(p)")
        }
        try body()
        var buffer = [UInt8](repeating: 0, count: 4096)
        var events = 0
        while true {
            let n = read(fd, &buffer, buffer.count)
            guard n > 0 else { break }
            var offset = 0
            while offset < n {
                let nameLength = buffer.withUnsafeBytes { $0.load(fromByteOffset: offset + 12, as: UInt32.self) }
                offset += MemoryLayout<inotify_event>.size + Int(nameLength)
                events += 1
            }
        }
        return events
    }

    private func write(_ text: String, named name: String, in dir: URL) throws -> String {
        let url = dir.appendingPathComponent(name)
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    func testPlaylistAndConcatScriptDisguisedAsMP4AreRefusedAndReadNothing() throws {
        let dir = try Fixtures.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let secret = dir.appendingPathComponent("secret.ts").path
        try FileManager.default.copyItem(atPath: try Fixtures.path("small.ts"), toPath: secret)
        let cases: [(name: String, text: String, format: String)] = [
            ("hls-local.mp4", "#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:10.0,\n\(secret)\n#EXT-X-ENDLIST\n", "hls"),
            ("hls-passwd.mp4", "#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:10.0,\nfile:///etc/passwd\n#EXT-X-ENDLIST\n", "hls"),
            ("concat-local.mp4", "ffconcat version 1.0\nfile '\(secret)'\n", "concat"),
            ("concat-passwd.mp4", "ffconcat version 1.0\nfile '/etc/passwd'\n", "concat"),
        ]
        for c in cases {
            let path = try write(c.text, named: c.name, in: dir)
            let events = try accesses(to: [secret, "/etc/passwd"]) {
                XCTAssertThrowsError(try VideoReader(path: path).sample()) { error in
                    XCTAssertEqual(error as? VideoIOError, .formatNotAllowed(path: path, format: c.format), c.name)
                    XCTAssertTrue(error.localizedDescription.contains(path))
                }
            }
            XCTAssertEqual(events, 0, "\(c.name): the target file was opened or read")
        }
    }

    /// Defence in depth: even with hls put on the allow-list, the io_open
    /// guard refuses the nested open, so the playlist's target is never read.
    func testNestedOpensAreRefusedEvenWhenTheDemuxerIsAllowed() throws {
        let dir = try Fixtures.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let secret = dir.appendingPathComponent("secret.ts").path
        try FileManager.default.copyItem(atPath: try Fixtures.path("small.ts"), toPath: secret)
        let path = try write("#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:10.0,\n\(secret)\n#EXT-X-ENDLIST\n",
                             named: "x.mp4", in: dir)
        var limits = VideoReaderLimits()
        limits.allowedFormats.append("hls")
        let events = try accesses(to: [secret]) {
            XCTAssertThrowsError(try VideoReader(path: path, limits: limits).sample())
        }
        XCTAssertEqual(events, 0, "the playlist's segment was opened or read")
    }

    /// Every format context we create carries the refusing io_open: calling it
    /// (as a demuxer would for a playlist entry, a dref or a concat item) fails
    /// with EPERM and is counted.
    func testIoOpenGuardRefusesAndCounts() throws {
        let demuxer = try Demuxer.open(path: try Fixtures.path("small.mp4"), limits: VideoReaderLimits(),
                                       deadline: Deadline(seconds: 10))
        let fc = try XCTUnwrap(demuxer.formatContext)
        let ioOpen = try XCTUnwrap(fc.pointee.io_open)
        var pb: UnsafeMutablePointer<AVIOContext>?
        let ret = ioOpen(fc, &pb, "/etc/passwd", AVIO_FLAG_READ, nil)
        XCTAssertEqual(ret, -EPERM)
        XCTAssertNil(pb)
        XCTAssertEqual(demuxer.refusedOpens.pointee, 1)
    }

    func testImageSequencePatternIsNeverOpened() throws {
        // image2 would open img-%03d.png siblings; it is not on the allow-list,
        // and probing ignores file names, so this PNG opens as one still image.
        let dir = try Fixtures.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let still = dir.appendingPathComponent("img-%03d.png").path
        try FileManager.default.copyItem(atPath: try Fixtures.path("still.png"), toPath: still)
        let sibling = dir.appendingPathComponent("img-001.png").path
        try FileManager.default.copyItem(atPath: try Fixtures.path("still.png"), toPath: sibling)
        var video: SampledVideo?
        let events = try accesses(to: [sibling]) { video = try VideoReader(path: still).sample(SamplingOptions(size: 32)) }
        XCTAssertEqual(events, 0)
        XCTAssertEqual(video?.frames.count, 1)
        XCTAssertEqual(video?.probe.container, "png_pipe")
    }
}
