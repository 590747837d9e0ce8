import Foundation
import XCTest
@testable import VideoIO

/// The formats of home and office collections (docs/FORMATS.md): one short
/// clip of each container and codec, encoded at test time with the ffmpeg
/// CLI, read with the default allow-lists; the frames sampled are exactly the
/// ones `ffmpeg -vf fps=1:round=up` outputs (the frame on screen at each
/// second), and the container and decoder are the ones the catalogue names.
final class FormatTests: XCTestCase {
    private var dir: URL!

    override func setUpWithError() throws { dir = try Fixtures.scratch() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    /// (file name, ffmpeg output arguments, expected demuxer, expected decoder).
    static let clips: [(String, [String], String, String)] = [
        ("mpeg1.mpg", ["-c:v", "mpeg1video", "-bf", "2", "-f", "mpeg"], "mpeg", "mpeg1video"),
        ("mpeg2.vob", ["-c:v", "mpeg2video", "-bf", "2", "-f", "vob"], "mpeg", "mpeg2video"),
        ("dvd.vob", ["-target", "pal-dvd", "-bf", "2"], "mpeg", "mpeg2video"),
        ("clip.wmv", ["-c:v", "wmv2"], "asf", "wmv2"),
        ("wmv7.wmv", ["-c:v", "wmv1"], "asf", "wmv1"),
        ("divx3.asf", ["-c:v", "msmpeg4"], "asf", "msmpeg4"),
        ("divx3.avi", ["-c:v", "msmpeg4", "-vtag", "DIV3"], "avi", "msmpeg4"),
        ("mp42.avi", ["-c:v", "msmpeg4v2"], "avi", "msmpeg4v2"),
        ("cinepak.avi", ["-c:v", "cinepak"], "avi", "cinepak"),
        ("tape.dv", ["-target", "pal-dv"], "dv", "dvvideo"),
        ("dv.avi", ["-c:v", "dvvideo", "-s", "720x576", "-pix_fmt", "yuv420p"], "avi", "dvvideo"),
        ("svq1.mov", ["-c:v", "svq1"], "mov,mp4,m4a,3gp,3g2,mj2", "svq1"),
        ("anim.gif", ["-c:v", "gif"], "gif", "gif"),
        ("anim.apng", ["-plays", "0", "-f", "apng"], "apng", "apng"),
        ("still.bmp", ["-frames:v", "1"], "bmp_pipe", "bmp"),
        ("still.tiff", ["-frames:v", "1", "-pix_fmt", "rgb24"], "tiff_pipe", "tiff"),
    ]

    func testEveryCatalogueFormatSamplesExactlyLikeTheFPSFilter() throws {
        for (name, arguments, container, codec) in Self.clips {
            let path = dir.appendingPathComponent(name).path
            try Tool.run("ffmpeg", ["-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=160x120:rate=25",
                                    "-t", "3"] + arguments + [path])
            let video = try VideoReader(path: path).sample(SamplingOptions(size: 32))
            XCTAssertEqual(video.probe.container, container, name)
            XCTAssertEqual(video.probe.codec, codec, name)
            XCTAssertEqual(video.warnings, [], name)
            let decoded = try Tool.probeFrames(path).frames.map(\.pts)
            let ours = video.frames.map { frame in decoded.firstIndex(of: frame.pts) ?? -1 }
            XCTAssertEqual(ours, try Tool.fpsFilterFrames(path), "\(name): frames differ from ffmpeg -vf fps=1:round=up")
            XCTAssertEqual(ours.count, name.hasPrefix("still") ? 1 : 3, name)
        }
    }

    /// Two program streams joined with `cat` (and a transport stream made the
    /// same way): the second part's clock starts again at 0.54 s. Its frames are
    /// placed after the first part's, as the ffmpeg CLI does, so the joined
    /// file is sampled like the fps filter samples it (each sample's picture
    /// identified against every decoded frame by PSNR; the parts show
    /// different test patterns).
    func testJoinedStreamsWhoseClockStartsAgainAreContinued() throws {
        for (ext, muxer) in [("vob", "vob"), ("ts", "mpegts")] {
            var joined = Data()
            for source in ["testsrc2", "testsrc"] {
                let part = dir.appendingPathComponent("\(source).\(ext)").path
                try Tool.run("ffmpeg", ["-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i", "\(source)=size=160x120:rate=25",
                                        "-t", "3", "-c:v", "mpeg2video", "-bf", "2", "-g", "12", "-f", muxer, part])
                joined.append(try Data(contentsOf: URL(fileURLWithPath: part)))
            }
            let path = dir.appendingPathComponent("joined.\(ext)").path
            try joined.write(to: URL(fileURLWithPath: path))
            let video = try VideoReader(path: path).sample(SamplingOptions(size: 32))
            XCTAssertEqual(video.frames.map(\.timeSeconds), [0, 1, 2, 3, 4, 5], ext)
            XCTAssertEqual(video.probe.durationSeconds, 6, accuracy: 0.05, ext)
            XCTAssertTrue(video.warnings.contains { $0.hasPrefix("the timestamps start again 1 time(s)") }, "\(ext): \(video.warnings)")
            let reference = try Tool.referencePictures(path, probe: video.probe, size: 32)
            let ours = video.frames.map { frame in
                reference.indices.max { ParityTests.psnr(video.rgb(frame: frame.index), reference[$0]) < ParityTests.psnr(video.rgb(frame: frame.index), reference[$1]) } ?? -1
            }
            XCTAssertEqual(ours, try Tool.fpsFilterFrames(path), "\(ext): frames differ from ffmpeg -vf fps=1:round=up")
        }
    }

    /// A PNG whose header claims 16000x16000: refused without allocating the
    /// picture (max_pixels reaches the decoder FFmpeg runs while probing).
    func testImageHeaderClaimingAHugeSizeIsRefused() throws {
        let path = try Self.pngClaiming(width: 16000, height: 16000, in: dir)
        XCTAssertThrowsError(try VideoReader(path: path).sample(SamplingOptions(size: 32))) { error in
            XCTAssertTrue(error.localizedDescription.hasPrefix(path + ": "), error.localizedDescription)
        }
    }

    /// A real 64x64 PNG with its IHDR size rewritten (and its CRC fixed).
    static func pngClaiming(width: UInt32, height: UInt32, in dir: URL) throws -> String {
        let path = dir.appendingPathComponent("bomb.png").path
        try Tool.run("ffmpeg", ["-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=64x64", "-frames:v", "1", path])
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        guard bytes.count > 33, Array(bytes[12..<16]) == Array("IHDR".utf8) else { throw FixtureError("no IHDR in \(path)") }
        for (offset, value) in [(16, width), (20, height)] {
            for k in 0..<4 { bytes[offset + k] = UInt8(truncatingIfNeeded: value >> (24 - 8 * UInt32(k))) }
        }
        let crc = crc32(bytes[12..<29])
        for k in 0..<4 { bytes[29 + k] = UInt8(truncatingIfNeeded: crc >> (24 - 8 * UInt32(k))) }
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    static func crc32(_ bytes: ArraySlice<UInt8>) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 != 0 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
        }
        return ~crc
    }
}
