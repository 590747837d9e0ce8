import XCTest
@testable import VideoIO

/// The encoder input: (frames, 3, R, R) float32, (x / 255 - mean[c]) / std[c].
final class NormalizationTests: XCTestCase {
    func testPlanarLayoutAndCLIPStatistics() throws {
        // Two 2x2 frames; pixel p of frame f has RGB (10f + p, 100 + p, 200 + p).
        var rgb: [UInt8] = []
        for f in 0..<2 { for p in 0..<4 { rgb += [UInt8(10 * f + p), UInt8(100 + p), UInt8(200 + p)] } }
        let frames = (0..<2).map { SampledFrame(index: $0, timeSeconds: Double($0), frameTimeSeconds: Double($0), pts: Int64($0), isKeyframe: false) }
        let probe = VideoProbe(
            path: "x", container: "c", codec: "c", width: 2, height: 2, displayWidth: 2, displayHeight: 2,
            displayAspectRatio: "1:1", sampleAspectRatio: "1:1", rotation: 0, durationSeconds: 2,
            declaredDurationSeconds: nil, frameRate: nil, frameCount: 2, startTimeSeconds: 0, timeBase: "1/1",
            pixelFormat: "rgb24", bitsPerComponent: 8, interlaced: false, keyframeCount: 1)
        let video = SampledVideo(
            probe: probe, frames: frames, size: 2, rgb: rgb, warnings: [],
            statistics: .init(packets: 2, packetsSent: 2, framesDecoded: 2, decodeErrors: 0, decodeRuns: 1,
                              decoderThreads: 1, planned: true))
        let x = video.normalizedPixels()
        XCTAssertEqual(x.count, 2 * 3 * 4)
        let clip = PreprocessingConfig.clip
        for f in 0..<2 {
            for c in 0..<3 {
                for p in 0..<4 {
                    let raw = Float(rgb[(f * 4 + p) * 3 + c])
                    let expected = (raw / 255 - clip.mean[c]) / clip.std[c]
                    XCTAssertEqual(x[((f * 3) + c) * 4 + p], expected, accuracy: 1e-5, "frame \(f) channel \(c) pixel \(p)")
                }
            }
        }
        XCTAssertEqual(video.normalizedPixels(frames: [1]), Array(x[(3 * 4)...]), "one selected frame")
        XCTAssertEqual(video.normalizedPixels(frames: [1, 0]), Array(x[(3 * 4)...]) + Array(x[..<(3 * 4)]), "in the order given")
        let custom = video.normalizedPixels(PreprocessingConfig(mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5]))
        XCTAssertEqual(custom[0], (0 / 255 - 0.5) / 0.5, accuracy: 1e-6)
        XCTAssertThrowsError(try PreprocessingConfig(mean: [0, 0], std: [1, 1, 1]).validate())
    }
}
