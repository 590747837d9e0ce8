import CFFmpeg
import XCTest
@testable import VideoIO

/// The sampling rule and the packet plan, on synthetic inputs with known answers.
final class SamplingPlanTests: XCTestCase {
    /// The sampling rule on content without gaps: one segment from 0 to `duration`.
    private func times(_ options: SamplingOptions, duration: Double) -> [Double] {
        ContentTimeline(segments: [.init(start: 0, end: duration)], gaps: [], distrustedFrameDuration: nil, frameDuration: 0)
            .sampleTimes(options)
    }

    func testSampleTimes() throws {
        let one = SamplingOptions()
        XCTAssertEqual(times(one, duration: 5), [0, 1, 2, 3, 4], "t_k < duration, strictly")
        XCTAssertEqual(times(one, duration: 4.5), [0, 1, 2, 3, 4])
        XCTAssertEqual(times(one, duration: 4.0001), [0, 1, 2, 3, 4])
        XCTAssertEqual(times(one, duration: 0.04), [0])
        XCTAssertEqual(times(one, duration: 0), [0], "a still image is one frame")
        XCTAssertEqual(times(SamplingOptions(fps: 2), duration: 2), [0, 0.5, 1, 1.5])
        XCTAssertEqual(times(SamplingOptions(maxFrames: 4), duration: 10), [0, 2.5, 5, 7.5])
        XCTAssertEqual(times(SamplingOptions(maxFrames: 10), duration: 3), [0, 1, 2], "a cap above the count changes nothing")
    }

    func testCentreSquareAppliesSampleAspectRatio() throws {
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

    private func plan(_ idx: PacketIndex, _ options: SamplingOptions = SamplingOptions()) throws -> SamplingPlan {
        try SamplingPlan.make(path: "x.mp4", index: idx, timeBase: AVRational(num: 1, den: 1000), nominalFrameDuration: 100,
                              options: options, minimumSkip: 1, maxDurationSeconds: 4 * 3600)
    }

    func testKeyframeTargetsAreDecodedAloneInTheirOwnRuns() throws {
        let p = try plan(index(frames: 30, gop: 10))
        XCTAssertTrue(p.isPlanned)
        XCTAssertEqual(p.durationSeconds, 3, accuracy: 1e-12)
        XCTAssertEqual(p.times, [0, 1, 2])
        XCTAssertEqual(p.plannedPTS, [0, 1000, 2000])
        XCTAssertEqual(p.actions.indices.filter { p.actions[$0] != .skip }, [0, 10, 20])
        XCTAssertEqual(p.runs, 3)
        XCTAssertEqual(p.packetsToDecode, 3)
    }

    func testRunStartsAtTheKeyframeBeforeTheTarget() throws {
        // Keyframes at 0, 7, 14: frame 10 needs 7, 8, 9 as references; frame 20 needs 14...19.
        let p = try plan(index(frames: 25, gop: 7))
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

    func testBFramesAreChosenByPresentationTime() throws {
        // Decode order I0 P3 B1 B2 P6 B4 B5 P9 B7 B8: samples at 0.2 s steps show frames 0, 2, 4, 6, 8.
        let order: [Int] = [0, 3, 1, 2, 6, 4, 5, 9, 7, 8]
        var idx = PacketIndex()
        idx.entries = order.enumerated().map { i, f in
            .init(pts: Int64(f) * 100, dts: Int64(i) * 100 - 100, duration: 100, isKeyframe: f == 0, isDiscarded: false)
        }
        let p = try plan(idx, SamplingOptions(fps: 5))
        XCTAssertEqual(p.plannedPTS, [0, 200, 400, 600, 800])
        let decodedFully = p.actions.indices.filter { p.actions[$0] == .decode }.map { order[$0] }
        XCTAssertEqual(decodedFully, [0, 2, 6, 4, 8])
        XCTAssertEqual(p.actions[order.firstIndex(of: 1)!], .referenceOnly)
        XCTAssertEqual(p.runs, 1)
    }

    func testStreamsWithoutPresentationTimestampsAreDecodedLinearly() throws {
        var idx = index(frames: 10, gop: 5)
        idx.entries[3].pts = FFmpegError.noPTS
        let linear = try plan(idx)
        XCTAssertFalse(linear.isPlanned)
        XCTAssertTrue(linear.actions.allSatisfy { $0 == .decode })
        XCTAssertEqual(linear.durationSeconds, 1, accuracy: 1e-12)
    }

    /// An edit list whose media_time is past every packet: the demuxer marks
    /// them all discarded. That is an error naming the file, never a trap.
    func testEveryPacketDiscardedIsAnErrorNotACrash() throws {
        var idx = index(frames: 10, gop: 5)
        for i in idx.entries.indices { idx.entries[i].isDiscarded = true }
        XCTAssertThrowsError(try plan(idx)) { error in
            guard case .corrupt(let path, 0, 10, let detail) = error as? VideoIOError else { return XCTFail("\(error)") }
            XCTAssertEqual(path, "x.mp4")
            XCTAssertTrue(detail.contains("edit list"), detail)
        }
    }

    /// One corrupt pts 11,790 s later (an MPEG-TS PTS jump): the gap gets no
    /// samples and the duration is the content's, not the span's.
    func testAGapLongerThanTheHoldGetsNoSamples() throws {
        var idx = index(frames: 30, gop: 10)
        idx.entries[15].pts = 11_790_000
        let p = try plan(idx)
        XCTAssertEqual(p.times, [0, 1, 2, 11_790])
        XCTAssertEqual(p.plannedPTS, [0, 1000, 2000, 11_790_000])
        XCTAssertEqual(p.durationSeconds, 3.1, accuracy: 1e-9, "2.9 s + one frame, then the lone frame's 0.1 s")
        let timeline = try XCTUnwrap(p.timeline)
        XCTAssertEqual(timeline.gaps, [.init(start: 3.0, end: 11_790)])
        XCTAssertTrue(timeline.warnings()[0].hasPrefix("no frame is on screen from 3.000 s for 11787.000 s"), "\(timeline.warnings())")
        // With a cap, samples spread over the content, not over the gap.
        let spread = try plan(idx, SamplingOptions(maxFrames: 2)).times
        XCTAssertEqual(spread.count, 2)
        XCTAssertEqual(spread[1], 1.55, accuracy: 1e-9)
    }

    /// A pause shorter than the hold is a frame on screen (VFR): sampled, as ffmpeg's fps filter does.
    func testAPauseWithinTheHoldIsSampled() throws {
        var idx = index(frames: 20, gop: 10)
        for i in 10..<20 { idx.entries[i].pts += 8_000 }  // frame 9 stays 8.1 s
        let p = try plan(idx)
        XCTAssertEqual(p.times, (0..<10).map(Double.init))
        XCTAssertEqual(p.plannedPTS, [0] + Array(repeating: 900, count: 8) + [9_000])
        XCTAssertTrue(p.timeline?.gaps.isEmpty ?? false)
    }

    /// A huge declared duration (Matroska DefaultDuration) on the last frame is not believed.
    func testAHugeDeclaredFrameDurationIsNotBelieved() throws {
        var idx = index(frames: 30, gop: 10)
        for i in idx.entries.indices { idx.entries[i].duration = 1_000_000 }
        let p = try plan(idx)
        XCTAssertEqual(p.durationSeconds, 3, accuracy: 1e-9)
        XCTAssertEqual(p.times, [0, 1, 2])
        XCTAssertEqual(p.timeline?.distrustedFrameDuration, 1000)
    }

    /// Timestamps at the ends of the Int64 range never trap, and no sample
    /// list is allocated from a duration over the limit.
    func testExtremeTimestampsDoNotTrap() throws {
        var idx = index(frames: 4, gop: 1)
        for i in 0..<4 { idx.entries[i].pts = .max - Int64(3 - i) * 1000 }
        idx.entries[3].duration = .max
        let p = try plan(idx)
        XCTAssertEqual(p.times, [0, 1, 2, 3])
        XCTAssertEqual(p.durationSeconds, 4, accuracy: 1e-9)
        XCTAssertNotNil(p.timeline?.distrustedFrameDuration)
        idx.entries[0].pts = .min + 1
        XCTAssertThrowsError(try plan(idx)) { XCTAssertEqual(($0 as? VideoIOError)?.code, "too_long") }
    }

    /// The clock of joined streams: a drop is a restart (continued one step on),
    /// one wild timestamp ahead is not, and a confirmed jump ahead is followed.
    func testRestartingClock() {
        var clock = RestartingClock(secondsPerTick: 1.0 / 1000)
        func offsets(_ dts: [Int64]) -> [Int64] { dts.map { clock.offset(dts: $0, duration: 40) } }
        XCTAssertEqual(offsets([500, 1500, 2500, 3500, 500, 1500]), [0, 0, 0, 0, 3040, 3040],
                       "the 2nd part starts one 40 ms step after 3500")
        XCTAssertEqual(clock.restarts, 1)
        clock = RestartingClock(secondsPerTick: 1.0 / 1000)
        XCTAssertEqual(offsets([0, 40, 11_790_000, 80, 120]), [0, 0, 0, 0, 0], "a lone corrupt timestamp is not a restart")
        XCTAssertEqual(clock.restarts, 0)
        clock = RestartingClock(secondsPerTick: 1.0 / 1000)
        XCTAssertEqual(offsets([0, 40, 60_000, 60_040, 60_080]), [0, 0, 0, 0, 0], "a confirmed jump ahead is a gap, not a restart")
        XCTAssertEqual(clock.restarts, 0)
        XCTAssertEqual(offsets([600]), [0 + 60_080 + 40 - 600], "a drop after it is a restart again")
    }
}
