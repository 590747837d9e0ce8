import Foundation
import XCTest

/// The `flamingo` binary as a user runs it: `flamingo frames`.
final class FramesCommandTests: XCTestCase {
    private func run(_ arguments: [String]) throws -> (status: Int32, stdout: Data, stderr: String) {
        try TinyModel.flamingo(arguments, scratch: FileManager.default.temporaryDirectory)
    }

    private func makeVideo(_ dir: URL) throws -> String {
        let path = dir.appendingPathComponent("clip.mp4").path
        let ffmpeg = Process()
        ffmpeg.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        ffmpeg.arguments = ["ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25",
                            "-t", "3.6", "-c:v", "libx264", "-g", "25", path]
        try ffmpeg.run()
        ffmpeg.waitUntilExit()
        XCTAssertEqual(ffmpeg.terminationStatus, 0)
        return path
    }

    func testJSONOutputAndPNGFrames() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let video = try makeVideo(dir)
        let out = dir.appendingPathComponent("frames")
        let result = try run(["frames", video, "--json", "--size", "96", "--out", out.path])
        XCTAssertEqual(result.status, 0, result.stderr)
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: result.stdout) as? [String: Any])
        let probe = try XCTUnwrap(json["video"] as? [String: Any])
        XCTAssertEqual(probe["codec"] as? String, "h264")
        XCTAssertEqual(probe["width"] as? Int, 320)
        XCTAssertEqual(probe["duration_s"] as? Double ?? 0, 3.6, accuracy: 1e-9)
        let frames = try XCTUnwrap(json["frames"] as? [[String: Any]])
        XCTAssertEqual(frames.compactMap { $0["time_s"] as? Double }, [0, 1, 2, 3])
        // One PNG per frame, 96x96, readable by another decoder.
        let pngs = try FileManager.default.contentsOfDirectory(atPath: out.path).sorted()
        XCTAssertEqual(pngs, ["frame-0000.png", "frame-0001.png", "frame-0002.png", "frame-0003.png"])
        let png = try Data(contentsOf: out.appendingPathComponent(pngs[0]))
        XCTAssertEqual(Array(png.prefix(8)), [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        let width = png[16..<20].reduce(0) { $0 << 8 | Int($1) }, height = png[20..<24].reduce(0) { $0 << 8 | Int($1) }
        XCTAssertEqual([width, height], [96, 96])
    }

    func testHumanOutputListsTheProbeAndFrames() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let result = try run(["frames", try makeVideo(dir), "--max-frames", "2"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let text = String(decoding: result.stdout, as: UTF8.self)
        XCTAssertTrue(text.contains("codec:      h264"), text)
        XCTAssertTrue(text.contains("sampled 2 frame(s) at 224x224"), text)
        XCTAssertTrue(text.contains("1.800"), "second sample at 3.6 / 2 s: \(text)")
    }

    func testBadInputExitsNonZeroWithTheTypedError() throws {
        let missing = "/nonexistent/clip.mp4"
        let result = try run(["frames", missing, "--json"])
        XCTAssertNotEqual(result.status, 0)
        XCTAssertTrue(result.stderr.contains("\(missing): no such file"), result.stderr)
        XCTAssertTrue(result.stdout.isEmpty)
    }

    /// A 2-hour 16x16 video sampled at 1 fps, 224x224: 7,200 frames streamed
    /// out as they are produced, so the process stays far below 512 MiB (it
    /// held every frame, about 2.3 GB, before).
    func testMemoryDoesNotGrowWithTheVideo() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let video = dir.appendingPathComponent("two-hours.mkv")
        try TinyModel.ffmpeg(["-f", "lavfi", "-i", "testsrc2=size=16x16:rate=1", "-t", "7200",
                              "-c:v", "libx264", "-g", "600", "-preset", "ultrafast"], output: video)
        let result = try MeasuredProcess.run(MeasuredProcess.flamingo, ["frames", video.path, "--json"], scratch: dir)
        XCTAssertEqual(result.status, 0, result.stderr)
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: result.stdout) as? [String: Any])
        XCTAssertEqual((json["frames"] as? [Any])?.count, 7200)
        XCTAssertLessThan(result.maxResidentKiB, 512 * 1024, "peak RSS \(result.maxResidentKiB) KiB")
        print("flamingo frames on a 2-hour video: peak RSS \(result.maxResidentKiB / 1024) MiB")
    }
}
