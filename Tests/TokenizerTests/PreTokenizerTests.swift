import Foundation
import XCTest
@testable import Tokenizer

/// Words produced by pre-tokenizer configurations that the tokenizer fixtures do not cover,
/// against the Rust library's `pre_tokenize_str` (Fixtures/pre_tokenizer_cases.json).
final class PreTokenizerTests: XCTestCase {
    private struct Document: Decodable {
        let cases: [Case]
    }

    private struct Case: Decodable {
        let preTokenizer: PreTokenizer
        let text: String
        let words: [String]

        private enum CodingKeys: String, CodingKey {
            case text, words
            case preTokenizer = "pre_tokenizer"
        }
    }

    func testPreTokenizersSplitLikeTheRustLibrary() throws {
        let data = try Data(contentsOf: FixtureFiles.directory.appendingPathComponent("pre_tokenizer_cases.json"))
        let cases = try JSONDecoder().decode(Document.self, from: data).cases
        XCTAssertGreaterThan(cases.count, 50)
        for (index, testCase) in cases.enumerated() {
            let pipeline = PreTokenizerPipeline(testCase.preTokenizer)
            let (words, pending) = pipeline.words(in: Substring(testCase.text))
            XCTAssertFalse(pending)
            XCTAssertEqual(words.map { scalarDump(String($0)) }, testCase.words.map(scalarDump),
                           "case \(index): \(testCase.preTokenizer) on \(scalarDump(testCase.text))")
        }
    }

    func testOnigurumaEscapesAreRewrittenForICU() {
        XCTAssertEqual(TextPattern.icuPattern(fromOniguruma: #"\s+"#), #"[\t\n\x{0B}\f\r\x{85}\p{Z}]+"#)
        XCTAssertEqual(TextPattern.icuPattern(fromOniguruma: #"[^\s\p{L}]"#),
                       #"[^\t\n\x{0B}\f\r\x{85}\p{Z}[\p{L}&&\p{Age=14.0}]]"#)
        XCTAssertEqual(TextPattern.icuPattern(fromOniguruma: #"\S\w\\s\PL\p{^N}"#),
                       #"[^\t\n\x{0B}\f\r\x{85}\p{Z}][[\p{L}\p{M}\p{N}\p{Pc}]&&\p{Age=14.0}]\\s[^[\p{L}&&\p{Age=14.0}]][^[\p{N}&&\p{Age=14.0}]]"#)
    }

    /// Oniguruma's Unicode 14.0 tables do not have U+A7CB (16.0), U+10D40 (16.0) or U+0C5C
    /// (16.0); splits must not treat them as letters or digits either (expected words from the
    /// Rust library).
    func testRegexClassesUseOnigurumasUnicodeVersion() throws {
        let text = "ab\u{A7CB}cd 1\u{10D40}2 \u{0C5C}"
        let expected: [String: [String]] = [
            #"\p{L}+"#: ["ab", "\u{A7CB}", "cd", " 1\u{10D40}2 \u{0C5C}"],
            #"\w+"#: ["ab", "\u{A7CB}", "cd", " ", "1", "\u{10D40}", "2", " \u{0C5C}"],
            #"[^\s\p{L}\p{N}]+"#: ["ab", "\u{A7CB}", "cd 1", "\u{10D40}", "2 ", "\u{0C5C}"],
            #"\d+"#: ["ab\u{A7CB}cd ", "1", "\u{10D40}", "2", " \u{0C5C}"],
        ]
        for (pattern, words) in expected {
            let split = PreTokenizer.split(try splitPreTokenizer(pattern))
            XCTAssertEqual(split.split(Substring(text)).map { scalarDump(String($0)) }, words.map(scalarDump), pattern)
        }
    }

    private func splitPreTokenizer(_ pattern: String) throws -> SplitPreTokenizer {
        let json = try JSONSerialization.data(withJSONObject: ["type": "Split", "pattern": ["Regex": pattern], "behavior": "Isolated", "invert": false])
        return try JSONDecoder().decode(SplitPreTokenizer.self, from: json)
    }
}
