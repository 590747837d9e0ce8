import Foundation
import XCTest
@testable import VideoIO

/// The pathological files of the reader's bug report, made at test time
/// (`PathologicalFixtures`): each gets the exact behaviour the reader
/// promises, never a trap and never hours of copies of one picture.
final class PathologicalInputTests: XCTestCase {
    private var dir: URL!

    override func setUpWithError() throws { dir = try Fixtures.scratch() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    private func sample(_ path: String, _ options: SamplingOptions = SamplingOptions(size: 32)) throws -> SampledVideo {
        try VideoReader(path: path).sample(options)
    }

    /// Every packet falls before the edit: an error that names the file and the cause.
    func testEditListThatHidesEveryFrameIsAnErrorNotACrash() throws {
        for codec in PathologicalFixtures.EditListCodec.allCases {
            let path = try PathologicalFixtures.hugeEditListMediaTime(codec: codec, directory: dir)
            XCTAssertThrowsError(try sample(path), codec.rawValue) { error in
                guard case .corrupt(path, 0, _, let detail) = error as? VideoIOError else { return XCTFail("\(codec): \(error)") }
                XCTAssertTrue(detail.contains("edit list hides every frame"), detail)
                XCTAssertTrue(error.localizedDescription.hasPrefix(path + ": is corrupt"), error.localizedDescription)
            }
        }
    }

    /// One PES packet's PTS moved 11,790 s on: its frame stands alone far
    /// away, the gap gets no samples and a warning, and the duration is the content's.
    func testMPEGTSPTSJumpIsAGapNotHoursOfOneFrame() throws {
        let path = try PathologicalFixtures.tsPTSJump(directory: dir)
        let video = try sample(path)
        XCTAssertEqual(video.frames.map(\.timeSeconds), [0, 1, 2])
        XCTAssertEqual(video.probe.durationSeconds, 3.04, accuracy: 1e-6, "3.0 s of the clip and the lone frame's 0.04 s")
        XCTAssertEqual(video.warnings.count, 1, "\(video.warnings)")
        XCTAssertEqual(video.warnings.first, "no frame is on screen from 3.000 s for 11788.480 s (a timestamp gap longer than the 10.0 s hold): no samples there")
        // A pipeline's cap of 10 frames: the 3 samples of a 3 s clip, 3 different pictures
        // (it used to spread 10 over 11,792 s, 9 of them one picture).
        let capped = try sample(path, SamplingOptions(maxFrames: 10, size: 32))
        XCTAssertEqual(capped.frames.map(\.timeSeconds), [0, 1, 2])
        XCTAssertEqual(Set(capped.frames.map(\.pts)).count, 3)
    }

    /// DefaultDuration of 1000 s on every frame: the last frame is not held for 1000 s.
    func testHugeMatroskaDefaultDurationIsNotBelieved() throws {
        let path = try PathologicalFixtures.matroskaHugeDefaultDuration(directory: dir)
        let video = try sample(path)
        XCTAssertEqual(video.frames.map(\.timeSeconds), [0, 1, 2])
        XCTAssertEqual(video.probe.durationSeconds, 3, accuracy: 1e-9)
        XCTAssertEqual(video.warnings, ["a frame declares 1000.000 s on screen, more than 4 typical frame durations; counted as 0.040 s"])
    }

    /// A valid file whose frames pause for 3 h 59 min: samples on both sides,
    /// none in between, and 3 s of content.
    func testFourHourGapBetweenTwoFrames() throws {
        let path = try PathologicalFixtures.fourHourGap(directory: dir)
        let video = try sample(path)
        XCTAssertEqual(video.frames.map(\.timeSeconds), [0, 1, 14_342])
        XCTAssertEqual(video.frames.map(\.frameTimeSeconds), [0, 1, 14_342])
        XCTAssertEqual(video.probe.durationSeconds, 3, accuracy: 1e-9)
        XCTAssertEqual(video.warnings, ["no frame is on screen from 1.520 s for 14340.000 s (a timestamp gap longer than the 10.0 s hold): no samples there"])
        // 12 samples at 4 fps capped to 6: spread over the 3 s of content, the gap skipped.
        let spread = try sample(path, SamplingOptions(fps: 4, maxFrames: 6, size: 32))
        XCTAssertEqual(spread.frames.map(\.timeSeconds).map { ($0 * 1000).rounded() / 1000 },
                       [0, 0.5, 1, 1.5, 14_342, 14_342.5])
    }

    /// Timestamps that start at 80,000 s or 1,000,000 s (a recorder's own
    /// clock): the duration limit applies to the content, not to the clock.
    func testStartOffsetsFarFromZero() throws {
        for seconds in [80_000, 1_000_000] {
            for container in PathologicalFixtures.OffsetContainer.allCases {
                let path = try PathologicalFixtures.startOffset(seconds: seconds, container: container, directory: dir)
                let video = try sample(path)
                let name = "\(container) +\(seconds) s"
                XCTAssertEqual(video.frames.map(\.timeSeconds), [0, 1, 2], name)
                XCTAssertEqual(video.probe.durationSeconds, 3, accuracy: 1e-9, name)
                XCTAssertEqual(video.probe.startTimeSeconds, Double(seconds), accuracy: 1e-9, name)
                XCTAssertEqual(video.warnings, [], name)
            }
        }
    }
}
