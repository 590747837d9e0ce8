import CFFmpeg
import XCTest
@testable import VideoIO

/// The sampling rule and the packet plan, on synthetic inputs with known answers.
final class SamplingPlanTests: XCTestCase {
    func testSampleTimes() {
        let one = SamplingOptions()
        XCTAssertEqual(one.sampleTimes(duration: 5), [0, 1, 2, 3, 4], "t_k < duration, strictly")
        XCTAssertEqual(one.sampleTimes(duration: 4.5), [0, 1, 2, 3, 4])
        XCTAssertEqual(one.sampleTimes(duration: 4.0001), [0, 1, 2, 3, 4])
        XCTAssertEqual(one.sampleTimes(duration: 0.04), [0])
        XCTAssertEqual(one.sampleTimes(duration: 0), [0], "a still image is one frame")
        XCTAssertEqual(SamplingOptions(fps: 2).sampleTimes(duration: 2), [0, 0.5, 1, 1.5])
        XCTAssertEqual(SamplingOptions(maxFrames: 4).sampleTimes(duration: 10), [0, 2.5, 5, 7.5])
        XCTAssertEqual(SamplingOptions(maxFrames: 10).sampleTimes(duration: 3), [0, 1, 2], "a cap above the count changes nothing")
    }

    func testCentreSquareAppliesSampleAspectRatio() {
        let square = FramePreprocessor.centreSquare(width: 1920, height: 1080, sar: AVRational(num: 1, den: 1))
        XCTAssertEqual(square.left, 420); XCTAssertEqual(square.width, 1080); XCTAssertEqual(square.height, 1080)
        // 4:3 pixels: 320 coded = 426.7 displayed; the 240-wide display square is 180 coded columns.
        let wide = FramePreprocessor.centreSquare(width: 320, height: 240, sar: AVRational(num: 4, den: 3))
        XCTAssertEqual(wide.left, 70); XCTAssertEqual(wide.width, 180); XCTAssertEqual(wide.height, 240)
        let portrait = FramePreprocessor.centreSquare(width: 180, height: 320, sar: AVRational(num: 1, den: 1))
        XCTAssertEqual(portrait.top, 70); XCTAssertEqual(portrait.height, 180)
    }

    /// A 10 fps stream in a 1/1000 time base without B-frames: packet i shows at i * 100.
    private func index(frames: Int, gop: Int) -> PacketIndex {
        var result = PacketIndex()
        result.entries = (0..<frames).map {
            .init(pts: Int64($0) * 100, dts: Int64($0) * 100, duration: 100, isKeyframe: $0 % gop == 0, isDiscarded: false)
        }
        return result
    }

    private func plan(_ idx: PacketIndex, _ options: SamplingOptions = SamplingOptions()) -> SamplingPlan {
        SamplingPlan.make(index: idx, timeBase: AVRational(num: 1, den: 1000), nominalFrameDuration: 100,
                          declaredDuration: nil, options: options, minimumSkip: 1)
    }

    func testKeyframeTargetsAreDecodedAloneInTheirOwnRuns() {
        let p = plan(index(frames: 30, gop: 10))
        XCTAssertTrue(p.isPlanned)
        XCTAssertEqual(p.durationSeconds, 3, accuracy: 1e-12)
        XCTAssertEqual(p.times, [0, 1, 2])
        XCTAssertEqual(p.plannedPTS, [0, 1000, 2000])
        XCTAssertEqual(p.actions.indices.filter { p.actions[$0] != .skip }, [0, 10, 20])
        XCTAssertEqual(p.runs, 3)
        XCTAssertEqual(p.packetsToDecode, 3)
    }

    func testRunStartsAtTheKeyframeBeforeTheTarget() {
        // Keyframes at 0, 7, 14: frame 10 needs 7, 8, 9 as references; frame 20 needs 14...19.
        let p = plan(index(frames: 25, gop: 7))
        XCTAssertEqual(p.plannedPTS, [0, 1000, 2000])
        XCTAssertEqual(p.actions[0], .decode)
        XCTAssertTrue(p.actions[1..<7].allSatisfy { $0 == .skip }, "packets before the keyframe are skipped")
        XCTAssertTrue(p.actions[7..<10].allSatisfy { $0 == .referenceOnly })
        XCTAssertEqual(p.actions[10], .decode)
        XCTAssertTrue(p.actions[11..<14].allSatisfy { $0 == .skip })
        XCTAssertTrue(p.actions[14..<20].allSatisfy { $0 == .referenceOnly })
        XCTAssertEqual(p.actions[20], .decode)
        XCTAssertTrue(p.actions[21...].allSatisfy { $0 == .skip }, "nothing after the last sample is decoded")
        XCTAssertEqual(p.runs, 3)
        XCTAssertEqual(Set(p.runOf[7...10]), [1])
        XCTAssertEqual(p.runOf[12], -1)
    }

    func testBFramesAreChosenByPresentationTime() {
        // Decode order I0 P3 B1 B2 P6 B4 B5 P9 B7 B8: samples at 0.2 s steps show frames 0, 2, 4, 6, 8.
        let order: [Int] = [0, 3, 1, 2, 6, 4, 5, 9, 7, 8]
        var idx = PacketIndex()
        idx.entries = order.enumerated().map { i, f in
            .init(pts: Int64(f) * 100, dts: Int64(i) * 100 - 100, duration: 100, isKeyframe: f == 0, isDiscarded: false)
        }
        let p = plan(idx, SamplingOptions(fps: 5))
        XCTAssertEqual(p.plannedPTS, [0, 200, 400, 600, 800])
        let decodedFully = p.actions.indices.filter { p.actions[$0] == .decode }.map { order[$0] }
        XCTAssertEqual(decodedFully, [0, 2, 6, 4, 8])
        XCTAssertEqual(p.actions[order.firstIndex(of: 1)!], .referenceOnly)
        XCTAssertEqual(p.runs, 1)
    }

    func testStreamsWithoutPresentationTimestampsAreDecodedLinearly() {
        var idx = index(frames: 10, gop: 5)
        idx.entries[3].pts = FFmpegError.noPTS
        let plan = SamplingPlan.make(
            index: idx, timeBase: AVRational(num: 1, den: 1000), nominalFrameDuration: 100,
            declaredDuration: nil, options: SamplingOptions(), minimumSkip: 1)
        XCTAssertFalse(plan.isPlanned)
        XCTAssertTrue(plan.actions.allSatisfy { $0 == .decode })
        XCTAssertEqual(plan.durationSeconds, 1, accuracy: 1e-12)
    }
}
