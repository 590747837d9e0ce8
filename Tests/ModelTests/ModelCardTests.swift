import Foundation
import XCTest
@testable import Model

/// model_card.json is validated on load like config.json: unknown keys, missing or empty fields and a
/// multi-line domain are refused with the file named; no card is allowed.
final class ModelCardTests: XCTestCase {
    private var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("card-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    private func load(_ json: String) throws -> ModelCard? {
        try json.write(to: dir.appendingPathComponent(ModelCard.fileName), atomically: true, encoding: .utf8)
        return try ModelCard.load(directory: dir)
    }

    private func assertRefused(_ json: String, saying words: String, line: UInt = #line) {
        XCTAssertThrowsError(try load(json), line: line) { error in
            let text = error.localizedDescription
            XCTAssertTrue(text.contains(words) && text.contains(ModelCard.fileName), text, line: line)
        }
    }

    func testValidCardAndNoCard() throws {
        XCTAssertNil(try ModelCard.load(directory: dir))
        let card = try XCTUnwrap(try load(#"{"name": "m", "domain": "cats", "recipe": "r", "evaluation": {"set": "s", "figures": {"a": 0.5}}}"#))
        XCTAssertEqual(card.domain, "cats")
        XCTAssertEqual(card.evaluation?.figures["a"], 0.5)
        XCTAssertNil(try load(#"{"name": "m", "domain": "cats", "recipe": "r"}"#)?.evaluation)
    }

    func testBadCardsAreRefused() {
        assertRefused(#"{"name": "m", "domain": "cats", "recipe": "r", "license": "x"}"#, saying: "unknown key 'license'")
        assertRefused(#"{"name": "m", "domain": "cats", "recipe": "r", "evaluation": {"set": "s", "figures": {}, "n": 1}}"#,
                      saying: "unknown key 'evaluation.n'")
        assertRefused(#"{"name": "m", "recipe": "r"}"#, saying: "missing key 'domain'")
        assertRefused(#"{"name": " ", "domain": "cats", "recipe": "r"}"#, saying: "must not be empty")
        assertRefused(#"{"name": "m", "domain": "cats\nand dogs", "recipe": "r"}"#, saying: "one line")
        assertRefused(#"["not", "an", "object"]"#, saying: "not a JSON object")
    }
}
