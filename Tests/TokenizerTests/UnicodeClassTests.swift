import Foundation
import XCTest
@testable import Tokenizer

/// Compares, for every Unicode scalar, the character classes computed from Swift's tables with
/// those the Rust library's engines use (recorded in Fixtures/unicode_classes.json).
final class UnicodeClassTests: XCTestCase {
    private struct Classes: Decodable {
        let onigLetter: [[UInt32]]
        let onigNumber: [[UInt32]]
        let onigSpace: [[UInt32]]
        let rustWhitespace: [[UInt32]]
        let rustNumeric: [[UInt32]]
        let regexWord: [[UInt32]]

        private enum CodingKeys: String, CodingKey {
            case onigLetter = "onig_letter"
            case onigNumber = "onig_number"
            case onigSpace = "onig_space"
            case rustWhitespace = "rust_whitespace"
            case rustNumeric = "rust_numeric"
            case regexWord = "regex_word"
        }
    }

    private static let classes: Classes? = {
        guard let data = try? Data(contentsOf: FixtureFiles.directory.appendingPathComponent("unicode_classes.json")) else { return nil }
        return try? JSONDecoder().decode(Classes.self, from: data)
    }()

    private func compare(_ name: String, _ ranges: [[UInt32]], _ predicate: (Unicode.Scalar) -> Bool) {
        var expected = [Bool](repeating: false, count: 0x110000)
        for range in ranges where range.count == 2 {
            for value in range[0]...range[1] { expected[Int(value)] = true }
        }
        var mismatches: [String] = []
        for value in UInt32(0)..<0x110000 {
            guard let scalar = Unicode.Scalar(value) else { continue }
            if predicate(scalar) != expected[Int(value)] {
                mismatches.append(String(format: "U+%04X(%@)", value, expected[Int(value)] ? "rust" : "swift"))
            }
        }
        XCTAssertTrue(mismatches.isEmpty, "\(name): \(mismatches.count) code points differ: \(mismatches.prefix(40).joined(separator: " "))")
    }

    func testGPT2PatternClasses() throws {
        let classes = try XCTUnwrap(Self.classes)
        compare("\\p{L}", classes.onigLetter) { UnicodeClassifier.gpt2Class($0.value) == .letter }
        compare("\\p{N}", classes.onigNumber) { UnicodeClassifier.gpt2Class($0.value) == .number }
        compare("\\s", classes.onigSpace) { UnicodeClassifier.gpt2Class($0.value) == .space }
    }

    func testRustCharacterClasses() throws {
        let classes = try XCTUnwrap(Self.classes)
        compare("char::is_whitespace", classes.rustWhitespace, UnicodeClassifier.isWhitespace)
        compare("char::is_numeric", classes.rustNumeric, UnicodeClassifier.isNumeric)
        compare("regex \\w", classes.regexWord, UnicodeClassifier.isWordCharacter)
    }
}
