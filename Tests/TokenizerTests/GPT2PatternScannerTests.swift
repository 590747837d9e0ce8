import XCTest
@testable import Tokenizer

/// The hand-written GPT-2 pattern scanner against splits the Rust library (Oniguruma) made
/// of the same strings with the GPT-2 regex.
final class GPT2PatternScannerTests: XCTestCase {
    private func words(_ text: String) -> [String] {
        ByteLevelPreTokenizer(addPrefixSpace: false, useRegex: true).split(Substring(text)).map(String.init)
    }

    func testSplitsLikeTheRustLibrary() {
        let expectations: [(String, [String])] = [
            ("Hello world!!  \n  it's 123abc", ["Hello", " world", "!!", "  \n ", " it", "'s", " 123", "abc"]),
            ("I'm  you'RE x''s ?!'ll", ["I", "'m", " ", " you", "'", "RE", " x", "''", "s", " ?!'", "ll"]),
            ("a  b\t\tc \n", ["a", " ", " b", "\t", "\t", "c", " \n"]),
            (" 12 3.5e-7   ", [" 12", " 3", ".", "5", "e", "-", "7", "   "]),
            ("café naïve 你好 😀👍🏽", ["café", " naïve", " 你好", " 😀👍🏽"]),
            ("  ", ["  "]),
            ("x\u{a0}\u{a0}y", ["x", "\u{a0}", "\u{a0}", "y"]),
        ]
        for (text, expected) in expectations {
            XCTAssertEqual(words(text).map(scalarDump), expected.map(scalarDump), "splitting \(scalarDump(text))")
        }
    }

    func testAddPrefixSpaceOnlyWhenMissing() {
        let withPrefix = ByteLevelPreTokenizer(addPrefixSpace: true, useRegex: true)
        XCTAssertEqual(withPrefix.split("hello world").map(String.init), [" hello", " world"])
        XCTAssertEqual(withPrefix.split(" hello").map(String.init), [" hello"])
        let noRegex = ByteLevelPreTokenizer(addPrefixSpace: true, useRegex: false)
        XCTAssertEqual(noRegex.split("a b").map(String.init), [" a b"])
    }

    /// Words are split on Unicode scalars, not grapheme clusters: a combining mark after a
    /// letter is not a letter (\p{L}) and starts an "other" run.
    func testCombiningMarksAreNotLetters() {
        XCTAssertEqual(words("cafe\u{301}s").map(scalarDump), ["cafe", "\\u{301}", "s"])
    }
}
