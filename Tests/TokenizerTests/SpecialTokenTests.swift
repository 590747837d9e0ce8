import XCTest
@testable import Tokenizer

/// Flamingo's special tokens in the GPT-2 style fixture, and the added-token flags of the
/// variant fixture (expected ids come from the Python `tokenizers` library).
final class SpecialTokenTests: XCTestCase {
    private func gpt2Style() throws -> BPETokenizer {
        try BPETokenizer(contentsOf: FixtureFiles.tokenizerURL("gpt2style"))
    }

    func testSpecialTokenIds() throws {
        let tokenizer = try gpt2Style()
        XCTAssertEqual(tokenizer.id(forToken: "<image>"), 2001)
        XCTAssertEqual(tokenizer.id(forToken: "<|endofchunk|>"), 2000)
        XCTAssertEqual(tokenizer.id(forToken: "<PAD>"), 2002)
        XCTAssertEqual(tokenizer.id(forToken: "<|endoftext|>"), 0)
        XCTAssertEqual(tokenizer.id(forToken: "Ġthe"), 261)
        XCTAssertNil(tokenizer.id(forToken: "<not a token>"))
        XCTAssertEqual(tokenizer.token(forId: 2001), "<image>")
        XCTAssertEqual(tokenizer.token(forId: 261), "Ġthe")
        XCTAssertNil(tokenizer.token(forId: 5000))
        XCTAssertNil(tokenizer.token(forId: -1))
        XCTAssertEqual(tokenizer.vocabularySize, 2003)
    }

    func testSpecialTokensAreSplitOutOfText() throws {
        let tokenizer = try gpt2Style()
        let ids = tokenizer.encode("<image>Output: a red square<|endofchunk|>")
        XCTAssertEqual(ids, [2001, 404, 26, 264, 429, 343, 2000])
        XCTAssertEqual(tokenizer.decode(ids), "<image>Output: a red square<|endofchunk|>")
        XCTAssertEqual(tokenizer.decode(ids, skipSpecialTokens: true), "Output: a red square")
        XCTAssertEqual(tokenizer.encode(" <image> x"), [221, 2001, 221, 88])
        XCTAssertEqual(tokenizer.decode([2002], skipSpecialTokens: true), "")
        XCTAssertEqual(tokenizer.encode(""), [])
    }

    func testAddedTokenFlags() throws {
        let tokenizer = try BPETokenizer(contentsOf: FixtureFiles.tokenizerURL("variant"))
        // BOS from TemplateProcessing; <image> has lstrip, so it takes the space before it.
        XCTAssertEqual(tokenizer.encode("x <image> y"), [1, 419, 594, 319])
        // <|endofchunk|> has rstrip: it swallows the spaces after it.
        XCTAssertEqual(tokenizer.encode("a<|endofchunk|>   b"), [1, 265, 595, 279])
        // "Red Square" is a normalized added token: it matches the lowercased text.
        // "zorblax" is single_word: it matches here, as a whole word.
        XCTAssertEqual(tokenizer.encode("Red Square zorblax"), [1, 598, 223, 597])
    }
}
