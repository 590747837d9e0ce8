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
        let model = dir.appendingPathComponent("model")
        try FileManager.default.createDirectory(at: model, withIntermediateDirectories: true)
        let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/reference/frame_embs")
        for name in ["config.json", "model.safetensors"] {
            try FileManager.default.copyItem(at: fixture.appendingPathComponent(name), to: model.appendingPathComponent(name))
        }
        // Ids 0..92 are the characters '!'...'}' (byte-level maps printable ASCII to itself).
        var vocab: [String: Int] = [:]
        for i in 0..<93 { vocab[String(UnicodeScalar(UInt8(33 + i)))] = i }
        let added = [("<|endofchunk|>", 93), ("<image>", 94), ("<PAD>", 95)].map { token, id in
            ["id": id, "content": token, "single_word": false, "lstrip": false, "rstrip": false,
             "normalized": false, "special": true] as [String: Any]
        }
        let tokenizer: [String: Any] = [
            "version": "1.0", "truncation": NSNull(), "padding": NSNull(), "added_tokens": added,
            "normalizer": NSNull(),
            "pre_tokenizer": ["type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true],
            "post_processor": NSNull(),
            "decoder": ["type": "ByteLevel", "add_prefix_space": true, "trim_offsets": true, "use_regex": true],
            "model": ["type": "BPE", "dropout": NSNull(), "unk_token": NSNull(), "continuing_subword_prefix": NSNull(),
                      "end_of_word_suffix": NSNull(), "fuse_unk": false, "vocab": vocab, "merges": [String]()],
        ]
        try JSONSerialization.data(withJSONObject: tokenizer).write(to: model.appendingPathComponent("tokenizer.json"))
        for (name, args) in [("image.png", ["-f", "lavfi", "-i", "testsrc2=size=64x48", "-frames:v", "1"]),
                             ("clip.mp4", ["-f", "lavfi", "-i", "testsrc2=size=96x64:rate=10", "-t", "3", "-c:v", "libx264"])] {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            p.arguments = ["ffmpeg", "-nostdin", "-v", "error", "-y"] + args + [dir.appendingPathComponent(name).path]
            try p.run()
            p.waitUntilExit()
            XCTAssertEqual(p.terminationStatus, 0)
        }
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    private func flamingo(_ arguments: [String]) throws -> (status: Int32, stdout: Data, stderr: String) {
        let runner = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        let process = Process()
        process.executableURL = runner.deletingLastPathComponent().appendingPathComponent("flamingo")
        process.arguments = arguments
        let errURL = dir.appendingPathComponent("stderr-\(UUID().uuidString)")
        FileManager.default.createFile(atPath: errURL.path, contents: nil)
        let out = Pipe()
        process.standardOutput = out
        process.standardError = try FileHandle(forWritingTo: errURL)
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, stdout, (try? String(contentsOf: errURL, encoding: .utf8)) ?? "")
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
