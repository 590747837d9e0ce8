import Foundation
import Generation
import XCTest
@testable import Pipeline

/// Pipeline files: the shipped ones parse; every kind of mistake is refused
/// with the file, the line and the reason.
final class PipelineLoaderTests: XCTestCase {
    private var pipelines: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Pipelines")
    }

    func testShippedPipelinesParse() throws {
        let standard = try PipelineLoader.load(contentsOf: PipelineLoader.resolve("default", directory: pipelines))
        XCTAssertEqual(standard.name, "default")
        XCTAssertEqual(standard.model, "default")
        XCTAssertEqual(standard.sampling.maxFrames, 10)
        // No decoding block: the defaults every command shares (greedy, 48 tokens).
        XCTAssertEqual(standard.decoding.beams, DecodingDefaults.beams)
        XCTAssertEqual(standard.decoding.maxTokens, DecodingDefaults.maxNewTokens)
        XCTAssertEqual(DecodingDefaults.beams, 1)
        XCTAssertEqual(standard.tasks.map(\.kind), ["caption", "qa", "classify"])
        XCTAssertEqual(standard.contentHash.count, 64)

        let examples = try PipelineLoader.load(contentsOf: pipelines.appendingPathComponent("examples/few-shot.yaml"))
        XCTAssertEqual(examples.tasks.map(\.kind), ["caption", "qa", "classify", "prompt"])
        XCTAssertEqual(examples.sampling.segmentSeconds, 30)
        guard case .caption(let prompt, let shots) = examples.tasks[0] else { return XCTFail("first task") }
        XCTAssertEqual(prompt, "Caption:")
        XCTAssertEqual(shots.first?.media, pipelines.appendingPathComponent("examples/shapes.mp4").path)
        guard case .prompt(_, _, let media, let maxTokens) = examples.tasks[3] else { return XCTFail("prompt task") }
        XCTAssertEqual(media.count, 1)
        XCTAssertEqual(maxTokens, 8)
    }

    private func refuse(_ yaml: String, line: Int?, containing text: String, file: StaticString = #filePath, lineNumber: UInt = #line) {
        let path = pipelines.appendingPathComponent("examples/inline.yaml").path
        XCTAssertThrowsError(try PipelineLoader.parse(yaml, file: path), file: file, line: lineNumber) { error in
            guard let e = error as? PipelineError else { return XCTFail("\(error)", file: file, line: lineNumber) }
            XCTAssertEqual(e.file, path, file: file, line: lineNumber)
            XCTAssertEqual(e.line, line, "\(e.reason)", file: file, line: lineNumber)
            XCTAssertTrue(e.reason.contains(text), "'\(e.reason)' lacks '\(text)'", file: file, line: lineNumber)
            XCTAssertTrue(e.localizedDescription.hasPrefix(path + (line.map { ":\($0)" } ?? "")), file: file, line: lineNumber)
        }
    }

    func testMistakesAreRefusedWithFileLineAndReason() {
        refuse("name: x\ntasks:\n  - caption: {}\n  - qa:\n      questoins: [a]\n", line: 5, containing: "unknown key 'questoins'")
        refuse("name: x\ntasks: [", line: 3, containing: "not valid YAML")  // libyaml reports the end of input
        refuse("name: x\n", line: 1, containing: "needs 'tasks'")
        refuse("name: x\nsampling:\n  fps: fast\ntasks:\n  - caption: {}\n", line: 3, containing: "sampling.fps must be a number")
        refuse("name: x\ndecoding:\n  beams: 0\ntasks:\n  - caption: {}\n", line: 3, containing: "between 1 and 16")
        refuse("name: x\nsampling:\n  media: clips\ntasks:\n  - caption: {}\n", line: 3, containing: "sampling.media must be 'video'")
        refuse("name: x\ntasks: []\n", line: 2, containing: "must not be empty")
        refuse("name: x\ntasks:\n  - summarize: {}\n", line: 3, containing: "unknown key 'summarize'")
        refuse("name: x\ntasks:\n  - classify:\n      name: c\n      question: q?\n      options: [yes]\n", line: 6, containing: "at least two")
        refuse("name: x\ntasks:\n  - caption:\n      examples:\n        - media: missing.mp4\n          text: t\n", line: 5, containing: "does not exist")
        refuse("name: x\ntasks:\n  - prompt:\n      name: p\n      text: \"<image>A:\"\n      media: [shapes.mp4]\n", line: 5,
               containing: "1 <image> marker(s)")
        refuse("name: x\ntasks:\n  - qa:\n      questions: [a]\n      template: \"Q: A:\"\n", line: 5, containing: "must contain {question}")
        refuse("name: x\ntasks:\n  - classify: {name: c, question: q, options: [a, b]}\n  - prompt: {name: c, text: \"<image>\"}\n",
               line: 4, containing: "two tasks are named 'c'")
    }

    func testContentHashIsSHA256OfTheBytes() {
        XCTAssertEqual(SHA256.hex(Data("abc".utf8)), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        XCTAssertEqual(SHA256.hex(Data()), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        let long = Data(repeating: 0x61, count: 1000)
        XCTAssertEqual(SHA256.hex(long), "41edece42d63e8d9bf515a9ba6932e1c20cbc9f5a5d134645adb5db1b9737ea3")
    }
}
