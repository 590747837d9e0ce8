import Foundation
import CFFmpeg
import XCTest
@testable import VideoIO

/// Our samples against the ffmpeg tools on the same files:
/// - timestamps: for each sample time t_k = k / fps from the first frame, the
///   frame we return is the last frame in ffprobe's decoded frame list whose
///   presentation time is <= t_k, and we return exactly one per t_k < duration;
/// - pixels: each returned picture matches the ffmpeg CLI's own decode of that
///   frame, scaled (bicubic) so the shorter display side is R and centre-cropped,
///   with PSNR >= 35 dB.
final class ParityTests: XCTestCase {
    static let minimumPSNR = 35.0

    /// Expected pts per sample, computed from ffprobe's frame list alone.
    private func expectedPTS(_ path: String, options: SamplingOptions) throws -> [Int64] {
        let probe = try Tool.probeFrames(path)
        let pts = probe.frames.map(\.pts)
        guard let first = pts.first, let last = probe.frames.last else { throw FixtureError("no frames in \(path)") }
        let tb = probe.timeBase
        let seconds = { (ticks: Int64) in Double(ticks) * Double(tb.num) / Double(tb.den) }
        let steps = zip(pts.dropFirst(), pts).map { $0 - $1 }.filter { $0 > 0 }.sorted()
        let lastDuration = (last.duration ?? 0) > 0 ? last.duration! : (steps.isEmpty ? 0 : steps[steps.count / 2])
        let duration = seconds(last.pts + lastDuration - first)
        var times: [Double] = []
        var k = 0
        while Double(k) / options.fps < duration || (k == 0 && duration <= 0) {
            times.append(Double(k) / options.fps)
            k += 1
        }
        if let n = options.maxFrames, times.count > n {
            times = (0..<n).map { Double($0) * duration / Double(n) }
        }
        return times.map { t in pts.last { seconds($0 - first) <= t } ?? first }
    }

    static func psnr(_ a: ArraySlice<UInt8>, _ b: [UInt8]) -> Double {
        precondition(a.count == b.count)
        var sum = 0.0
        for (x, y) in zip(a, b) {
            let d = Double(x) - Double(y)
            sum += d * d
        }
        let mse = sum / Double(a.count)
        return mse == 0 ? 99 : 10 * log10(255 * 255 / mse)
    }

    @discardableResult
    private func checkParity(
        _ name: String, options: SamplingOptions = SamplingOptions(size: 64), pixels: Bool = true,
        file: StaticString = #filePath, line: UInt = #line
    ) throws -> SampledVideo {
        let path = try Fixtures.path(name)
        let video = try VideoReader(path: path).sample(options)
        let expected = try expectedPTS(path, options: options)
        XCTAssertEqual(video.frames.map(\.pts), expected, "\(name): sampled frames differ from ffprobe's", file: file, line: line)
        XCTAssertEqual(video.frames.map(\.index), Array(0..<video.frames.count), file: file, line: line)
        XCTAssertTrue(video.warnings.isEmpty, "\(name): unexpected warnings \(video.warnings)", file: file, line: line)
        XCTAssertEqual(video.rgb.count, video.frames.count * options.size * options.size * 3, file: file, line: line)
        guard pixels else { return video }
        let ffprobeOrder = try Tool.probeFrames(path).frames.map(\.pts)
        let reference = try Tool.referencePictures(path, probe: video.probe, size: options.size)
        XCTAssertEqual(reference.count, ffprobeOrder.count, "\(name): CLI and ffprobe frame counts differ", file: file, line: line)
        for frame in video.frames {
            guard let i = ffprobeOrder.firstIndex(of: frame.pts), i < reference.count else {
                XCTFail("\(name): pts \(frame.pts) not in the CLI's frames", file: file, line: line)
                continue
            }
            let psnr = Self.psnr(video.rgb(frame: frame.index), reference[i])
            XCTAssertGreaterThanOrEqual(psnr, Self.minimumPSNR, "\(name): frame \(frame.index) (pts \(frame.pts)) PSNR \(psnr) dB",
                                        file: file, line: line)
        }
        return video
    }

    func testConstantFrameRate() throws {
        let video = try checkParity("cfr.mp4")
        XCTAssertEqual(video.frames.count, 4)
        XCTAssertEqual(video.probe.frameCount, 120)
        XCTAssertEqual(video.probe.durationSeconds, 4, accuracy: 1e-9)
        XCTAssertEqual(video.frames.map(\.timeSeconds), [0, 1, 2, 3])
    }

    func testBFramesReordered() throws {
        let video = try checkParity("bframes.mp4")
        XCTAssertEqual(video.frames.count, 5)
        XCTAssertLessThan(video.statistics.packetsSent, video.statistics.packets, "frames after the last sample are not decoded")
    }

    func testShortGOPsDecodedInParallelRuns() throws {
        let video = try checkParity("shortgop.mkv")
        XCTAssertEqual(video.frames.count, 8)
        XCTAssertGreaterThan(video.statistics.decodeRuns, 4, "keyframes before each sample should start fresh runs")
        XCTAssertLessThan(video.statistics.packetsSent, video.statistics.packets / 2)
    }

    func testVariableFrameRateRepeatsTheFrameOnScreenInAGap() throws {
        let video = try checkParity("vfr.mkv", options: SamplingOptions(fps: 2, size: 64))
        XCTAssertGreaterThan(video.frames.count, 9)
    }

    func testStartOffsetIsMeasuredFromTheFirstFrame() throws {
        let video = try checkParity("offset.ts")
        XCTAssertEqual(video.probe.startTimeSeconds, 4.6, accuracy: 0.05)
        XCTAssertEqual(video.frames.first?.frameTimeSeconds, 0)
        XCTAssertEqual(video.frames.count, 4)
    }

    func testNegativeStartHiddenByEditList() throws {
        try checkParity("negative.mp4")
    }

    func testRotationComesOutUpright() throws {
        let video = try checkParity("rotated.mp4")
        XCTAssertEqual(video.probe.rotation, 270)  // rotate=90 tag: 90° counter-clockwise
        XCTAssertEqual(video.probe.displayWidth, 180)
        XCTAssertEqual(video.probe.displayHeight, 320)
        // The same frames unrotated would not match: rotation is really applied.
        let plain = try VideoReader(path: try Fixtures.path("landscape.mp4")).sample(SamplingOptions(size: 64))
        XCTAssertLessThan(Self.psnr(plain.rgb(frame: 1), Array(video.rgb(frame: 1))), 20)
    }

    func testTenBit() throws {
        let video = try checkParity("tenbit.mkv")
        XCTAssertEqual(video.probe.bitsPerComponent, 10)
    }

    func testChromaFormatsGrayRGBAndAlpha() throws {
        for name in ["yuv444.mp4", "yuv422.mkv", "gray.mkv", "rgb.mkv", "alpha.mov"] {
            try checkParity(name)
        }
    }

    func testPillarboxedSceneIsRecoveredByTheCentreCrop() throws {
        let video = try checkParity("pillarbox.mp4", options: SamplingOptions(size: 96))
        // No black bar survives the crop: the left and right columns are not black.
        let rgb = video.rgb(frame: 0)
        let base = rgb.startIndex
        let columnSum = (0..<96).reduce(0) { $0 + Int(rgb[base + $1 * 96 * 3]) + Int(rgb[base + ($1 * 96 + 95) * 3 + 1]) }
        XCTAssertGreaterThan(columnSum, 96 * 20)
    }

    func testNonSquarePixelsAreAppliedBeforeCropping() throws {
        let video = try checkParity("anamorphic.mp4")
        XCTAssertEqual(video.probe.sampleAspectRatio, "4:3")
        XCTAssertEqual(video.probe.displayAspectRatio, "16:9")
        XCTAssertEqual(video.probe.displayWidth, 427)
    }

    func testOddSizeVP9() throws {
        try checkParity("odd.webm")
    }

    func testInterlacedIsFlagged() throws {
        let video = try checkParity("interlaced.mkv")
        XCTAssertTrue(video.probe.interlaced)
        let progressive = try VideoReader(path: try Fixtures.path("cfr.mp4")).probe()
        XCTAssertFalse(progressive.interlaced)
    }

    func testOtherContainersAndCodecs() throws {
        for name in ["mpeg4.avi", "flv1.flv", "theora.ogv", "mpeg2.mxf", "vp9.webm"] {
            try checkParity(name)
        }
    }

    func testStillImagesBecomeOneFrameVideos() throws {
        for name in ["still.png", "still.jpg", "still.webp"] {
            let video = try checkParity(name)
            XCTAssertEqual(video.frames.count, 1, name)
        }
    }

    func testMaxFramesSpreadsSamplesOverTheWholeDuration() throws {
        let video = try checkParity("cfr.mp4", options: SamplingOptions(maxFrames: 3, size: 64))
        XCTAssertEqual(video.frames.map(\.timeSeconds), [0, 4.0 / 3, 8.0 / 3])
    }

    func testFullResolutionCLIPSize() throws {
        try checkParity("landscape.mp4", options: SamplingOptions(size: 224))
    }
}

/// "4:3" parts as an AVRational (1:1 when malformed).
struct AVRationalPair {
    let value: AVRational
    init(_ parts: [Int32]) {
        value = parts.count == 2 ? AVRational(num: parts[0], den: parts[1]) : AVRational(num: 1, den: 1)
    }
}
