import Foundation
import Generation
import XCTest

/// `flamingo eval`, `caption` and `ask` on the tiny model: the commands'
/// answers equal the library's greedy generation with the training prompts,
/// the report counts every item, and an unreadable clip counts as wrong with
/// its path in the report instead of stopping the evaluation.
final class EvalCommandTests: XCTestCase {
    private var dir: URL!
    private var model: String { dir.appendingPathComponent("model").path }
    private var clip: String { dir.appendingPathComponent("set/clips/a.mp4").path }

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("eval-\(UUID().uuidString)")
        _ = try TinyModel.make(in: dir)
        let set = dir.appendingPathComponent("set")
        try FileManager.default.createDirectory(at: set.appendingPathComponent("clips"), withIntermediateDirectories: true)
        try TinyModel.ffmpeg(["-f", "lavfi", "-i", "testsrc2=size=96x64:rate=10", "-t", "3", "-c:v", "libx264"],
                             output: URL(fileURLWithPath: clip))
        let labels = [
            #"{"id":"c0","file":"clips/a.mp4","caption":"a red circle moving left.","qa":[{"question":"how many shapes are there?","answer":"one","type":"count"},{"question":"what color is the circle?","answer":"red","type":"color"},{"question":"which way is the red circle moving?","answer":"left","type":"motion"}],"qa_balanced":["how many shapes are there?","what color is the circle?"]}"#,
            #"{"id":"c1","file":"clips/missing.mp4","caption":"a blue square standing still.","qa":[{"question":"is anything moving?","answer":"no","type":"anymoving"}],"qa_balanced":["is anything moving?"]}"#,
        ]
        let episodes = [
            #"{"id":"e0","form":"answer","task":"color","k":0,"support":[],"query":{"clip":"c0","answer":"red"},"prompt":"<image>Answer:"}"#,
            #"{"id":"e1","form":"answer","task":"color","k":1,"support":[{"clip":"c0","answer":"red"}],"query":{"clip":"c0","answer":"red"},"prompt":"<image>Answer: red<|endofchunk|><image>Answer:"}"#,
        ]
        try (labels.joined(separator: "\n") + "\n").write(to: set.appendingPathComponent("labels.jsonl"), atomically: true, encoding: .utf8)
        try (episodes.joined(separator: "\n") + "\n").write(to: set.appendingPathComponent("fewshot.jsonl"), atomically: true, encoding: .utf8)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    private func flamingo(_ arguments: [String]) throws -> (status: Int32, stdout: Data, stderr: String) {
        try TinyModel.flamingo(arguments, scratch: dir)
    }

    private func greedy(_ prompt: String, media: Int, maxTokens: Int) throws -> FlamingoSession.Continuation {
        let session = try FlamingoSession(directory: URL(fileURLWithPath: model))
        let item = try session.loadMedia(path: clip)
        return try session.generate(prompt: prompt, media: Array(repeating: item, count: media),
                                    options: GenerationOptions(maxNewTokens: maxTokens))
    }

    func testEvalCountsEveryItemAndMatchesTheLibrary() throws {
        let result = try flamingo(["eval", dir.appendingPathComponent("set").path, "--model", model, "--json"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let report = try XCTUnwrap(JSONSerialization.jsonObject(with: result.stdout) as? [String: Any])
        XCTAssertEqual(report["clips"] as? Int, 2)
        XCTAssertEqual((report["questions"] as? [String: Any])?["count"] as? Int, 3)
        let perType = try XCTUnwrap(report["questions_per_type"] as? [String: [String: Any]])
        XCTAssertEqual(perType.mapValues { $0["count"] as? Int }, ["count": 1, "color": 1, "anymoving": 1])
        XCTAssertEqual((report["captions"] as? [String: Any])?["count"] as? Int, 2)
        let shots = try XCTUnwrap(report["few_shot_by_shots"] as? [String: [String: Any]])
        XCTAssertEqual(Set(shots.keys), ["0", "1"])
        let zeroed = try XCTUnwrap(report["temporal_zeroed"] as? [String: [String: Any]])
        XCTAssertEqual(zeroed["direction_moving"]?["count"] as? Int, 1)
        XCTAssertEqual(zeroed["color"]?["count"] as? Int, 1)

        let mistakes = try XCTUnwrap(report["mistakes"] as? [[String: String]])
        // The missing clip: its question and caption are wrong, and say why.
        let missing = mistakes.filter { $0["clip"] == "c1" }
        XCTAssertEqual(missing.count, 2)
        XCTAssertTrue(missing.allSatisfy { $0["predicted"]?.contains("missing.mp4") == true }, "\(missing)")
        // A caption the tiny model gets wrong is the library's greedy caption.
        let caption = try greedy(Prompts.caption, media: 1, maxTokens: 48).text
        if let row = mistakes.first(where: { $0["clip"] == "c0" && $0["prompt"] == Prompts.caption }) {
            XCTAssertEqual(row["predicted"], caption)
        } else {
            XCTAssertEqual(caption.lowercased(), "a red circle moving left.")
        }
        let bars = try XCTUnwrap(report["bars"] as? [[String: Any]])
        XCTAssertTrue(bars.contains { $0["name"] as? String == "questions overall" })
    }

    func testCheckBarsFailsAWeakModel() throws {
        let result = try flamingo(["eval", dir.appendingPathComponent("set").path, "--model", model, "--check-bars"])
        XCTAssertEqual(result.status, 1)
        XCTAssertTrue(result.stderr.contains("quality bars missed:"), result.stderr)
        XCTAssertTrue(result.stderr.contains("captions exact match"), result.stderr)
        let text = String(decoding: result.stdout, as: UTF8.self)
        XCTAssertTrue(text.contains("FAIL  questions overall"), text)
    }

    func testEvalOfAMissingSetSaysWhichFile() throws {
        let result = try flamingo(["eval", dir.appendingPathComponent("nowhere").path, "--model", model])
        XCTAssertEqual(result.status, 1)
        XCTAssertTrue(result.stderr.contains("nowhere/labels.jsonl: cannot read"), result.stderr)
    }

    func testCaptionAndAskEqualTheLibrary() throws {
        let caption = try flamingo(["caption", clip, "--model", model, "--json"])
        XCTAssertEqual(caption.status, 0, caption.stderr)
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: caption.stdout) as? [String: Any])
        let expected = try greedy(Prompts.caption, media: 1, maxTokens: DecodingDefaults.maxNewTokens)
        XCTAssertEqual(json["caption"] as? String, expected.text)
        XCTAssertEqual(json["logprob"] as? Double ?? 0, expected.logprob, accuracy: 1e-4)

        let questions = ["how many shapes are there?", "is anything moving?"]
        let ask = try flamingo(["ask", clip, "--model", model, "-q", questions[0], "-q", questions[1], "--json"])
        XCTAssertEqual(ask.status, 0, ask.stderr)
        let rows = try XCTUnwrap(JSONSerialization.jsonObject(with: ask.stdout) as? [[String: Any]])
        XCTAssertEqual(rows.compactMap { $0["question"] as? String }, questions)
        for (row, q) in zip(rows, questions) {
            let e = try greedy(Prompts.question(q), media: 1, maxTokens: DecodingDefaults.maxNewTokens)
            XCTAssertEqual(row["answer"] as? String, e.text)
            XCTAssertEqual(row["logprob"] as? Double ?? 0, e.logprob, accuracy: 1e-4)
        }
        let plain = try flamingo(["ask", clip, "--model", model, "-q", questions[0]])
        XCTAssertEqual(String(decoding: plain.stdout, as: UTF8.self), (rows[0]["answer"] as? String ?? "") + "\n")
    }

    func testAskNeedsAQuestionAndCaptionNamesABadFile() throws {
        let none = try flamingo(["ask", clip, "--model", model])
        XCTAssertNotEqual(none.status, 0)
        XCTAssertTrue(none.stderr.contains("at least one question"), none.stderr)
        let bad = dir.appendingPathComponent("notes.mp4")
        try Data("not a video".utf8).write(to: bad)
        let result = try flamingo(["caption", bad.path, "--model", model])
        XCTAssertEqual(result.status, 1)
        XCTAssertTrue(result.stderr.contains("notes.mp4"), result.stderr)
    }
}
