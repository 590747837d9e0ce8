import Evaluation
import Foundation
import XCTest

final class EvaluationSetTests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("evalset-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    static let clipA = #"{"id":"eval_0000","file":"clips/a.mp4","caption":"a red circle moving left.","qa":[{"question":"how many shapes are there?","answer":"one","type":"count"},{"question":"is anything moving?","answer":"yes","type":"anymoving"}],"qa_balanced":["how many shapes are there?"],"extra":1}"#
    static let clipB = #"{"id":"eval_0001","file":"clips/b.mkv","caption":"a blue square standing still.","qa":[],"qa_balanced":[]}"#
    static let episode = #"{"id":"fs-1","form":"answer","task":"color","k":1,"support":[{"clip":"eval_0001","answer":"blue"}],"query":{"clip":"eval_0000","answer":"red"},"prompt":"<image>Answer: blue<|endofchunk|><image>Answer:"}"#

    func write(_ name: String, _ lines: [String]) throws {
        try (lines.joined(separator: "\n") + "\n").write(to: dir.appendingPathComponent(name), atomically: true, encoding: .utf8)
    }

    func testLoadsClipsAndEpisodes() throws {
        try write("labels.jsonl", [Self.clipA, "", Self.clipB])
        try write("fewshot.jsonl", [Self.episode])
        let set = try EvaluationSet(directory: dir)
        XCTAssertEqual(set.clips.map(\.id), ["eval_0000", "eval_0001"])
        XCTAssertEqual(set.clips[0].qaBalanced, ["how many shapes are there?"])
        XCTAssertEqual(set.clips[0].qa[1].type, "anymoving")
        XCTAssertEqual(set.url(of: set.clips[1]).path, dir.appendingPathComponent("clips/b.mkv").path)
        XCTAssertEqual(set.episodes.first?.support.first?.answer, "blue")
    }

    func testFewShotIsOptional() throws {
        try write("labels.jsonl", [Self.clipA])
        XCTAssertTrue(try EvaluationSet(directory: dir).episodes.isEmpty)
    }

    func testBadLineNamesFileLineAndField() throws {
        try write("labels.jsonl", [Self.clipA, #"{"id":"eval_0002","file":"x.mp4","qa":[],"qa_balanced":[]}"#])
        XCTAssertThrowsError(try EvaluationSet(directory: dir)) { error in
            let message = error.localizedDescription
            XCTAssertTrue(message.contains("labels.jsonl:2"), message)
            XCTAssertTrue(message.contains("caption"), message)
        }
    }

    func testEpisodeWithUnknownClipIsRefused() throws {
        try write("labels.jsonl", [Self.clipA])
        try write("fewshot.jsonl", [Self.episode])
        XCTAssertThrowsError(try EvaluationSet(directory: dir)) { error in
            XCTAssertTrue(error.localizedDescription.contains("fewshot.jsonl:1"), error.localizedDescription)
            XCTAssertTrue(error.localizedDescription.contains("eval_0001"), error.localizedDescription)
        }
    }

    func testEpisodeWhoseMarkersDisagreeWithKIsRefused() throws {
        try write("labels.jsonl", [Self.clipA, Self.clipB])
        try write("fewshot.jsonl", [Self.episode.replacingOccurrences(of: "<image>Answer: blue<|endofchunk|>", with: "")])
        XCTAssertThrowsError(try EvaluationSet(directory: dir)) { error in
            XCTAssertTrue(error.localizedDescription.contains("1 <image> marker"), error.localizedDescription)
        }
    }

    func testMissingAndEmptyLabels() throws {
        XCTAssertThrowsError(try EvaluationSet(directory: dir)) { error in
            XCTAssertTrue(error.localizedDescription.contains("labels.jsonl: cannot read"), error.localizedDescription)
        }
        try write("labels.jsonl", [""])
        XCTAssertThrowsError(try EvaluationSet(directory: dir)) { error in
            XCTAssertTrue(error.localizedDescription.contains("no labelled clips"), error.localizedDescription)
        }
    }
}
