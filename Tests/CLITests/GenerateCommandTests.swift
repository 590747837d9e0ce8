import Foundation
import XCTest
import Generation

/// `flamingo generate` on a tiny model (the reference fixture's weights with a
/// small byte-level tokenizer.json whose special ids match its config), with
/// an image and a video interleaved in the prompt.
final class GenerateCommandTests: XCTestCase {
    private var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("gen-\(UUID().uuidString)")
        _ = try TinyModel.make(in: dir)
        try TinyModel.ffmpeg(["-f", "lavfi", "-i", "testsrc2=size=64x48", "-frames:v", "1"], output: dir.appendingPathComponent("image.png"))
        try TinyModel.ffmpeg(["-f", "lavfi", "-i", "testsrc2=size=96x64:rate=10", "-t", "3", "-c:v", "libx264"],
                             output: dir.appendingPathComponent("clip.mp4"))
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    private func flamingo(_ arguments: [String]) throws -> (status: Int32, stdout: Data, stderr: String) {
        try TinyModel.flamingo(arguments, scratch: dir)
    }

    func testGenerateMatchesTheLibraryAndScoresOptions() throws {
        let model = dir.appendingPathComponent("model").path
        let image = dir.appendingPathComponent("image.png").path, clip = dir.appendingPathComponent("clip.mp4").path
        let prompt = "ab<image>cd<|endofchunk|><image>ef"
        let result = try flamingo(["generate", "--model", model, "--prompt", prompt, "--media", image, "--media", clip,
                                   "--beams", "3", "--max-tokens", "6", "--json"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: result.stdout) as? [String: Any])
        let text = try XCTUnwrap(json["text"] as? String)
        let logprob = try XCTUnwrap(json["logprob"] as? Double)
        XCTAssertLessThan(logprob, 0)

        // The same prompt through the library in this process gives the same answer.
        let session = try FlamingoSession(directory: URL(fileURLWithPath: model))
        let media = try [image, clip].map { try session.loadMedia(path: $0) }
        XCTAssertEqual(media.map(\.frames.count), [1, 3])
        let expected = try session.generate(prompt: prompt, media: media, options: GenerationOptions(maxNewTokens: 6, numBeams: 3))
        XCTAssertEqual(text, expected.text)
        XCTAssertEqual(logprob, expected.logprob, accuracy: 1e-4)

        let scored = try flamingo(["generate", "--model", model, "--prompt", prompt, "--media", image, "--media", clip,
                                   "--option", "gh", "--option", "ij", "--json"])
        XCTAssertEqual(scored.status, 0, scored.stderr)
        let rows = try XCTUnwrap(JSONSerialization.jsonObject(with: scored.stdout) as? [[String: Any]])
        XCTAssertEqual(rows.compactMap { $0["option"] as? String }, ["gh", "ij"])
        let expectedScores = try session.score(prompt: prompt, options: ["gh", "ij"], media: media)
        for (row, e) in zip(rows, expectedScores) { XCTAssertEqual(row["logprob"] as? Double ?? 0, e, accuracy: 1e-4) }
    }

    func testMediaCountMustMatchTheImageMarkers() throws {
        let result = try flamingo(["generate", "--model", dir.appendingPathComponent("model").path, "--prompt", "ab<image>cd",
                                   "--media", dir.appendingPathComponent("image.png").path,
                                   "--media", dir.appendingPathComponent("clip.mp4").path])
        XCTAssertNotEqual(result.status, 0)
        XCTAssertTrue(result.stderr.contains("1 <image> marker(s) but 2 media file(s)"), result.stderr)
    }
}
