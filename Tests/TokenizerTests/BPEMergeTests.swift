import XCTest
@testable import Tokenizer

/// Merge order on hand-made vocabularies.
final class BPEMergeTests: XCTestCase {
    private let abcVocab = ["a": 0, "b": 1, "c": 2, "ab": 3, "bc": 4, "abc": 5]

    func testLowestRankMergesFirst() throws {
        // (b, c) has rank 0, so "abc" becomes a + bc, and no rule joins those two.
        let first = try TokenizerJSONBuilder(vocab: abcVocab, merges: ["b c", "a b", "ab c"]).build()
        XCTAssertEqual(first.encode("abc"), [0, 4])
        // With (a, b) first, ab + c then merges by the third rule.
        let second = try TokenizerJSONBuilder(vocab: abcVocab, merges: ["a b", "b c", "ab c"]).build()
        XCTAssertEqual(second.encode("abc"), [5])
    }

    func testEqualRanksMergeLeftmostFirst() throws {
        let tokenizer = try TokenizerJSONBuilder(vocab: ["a": 0, "aa": 1], merges: ["a a"]).build()
        XCTAssertEqual(tokenizer.encode("aaa"), [1, 0])
        XCTAssertEqual(tokenizer.encode("aaaaa"), [1, 1, 0])
    }

    func testMergedTokensMergeAgain() throws {
        let vocab = ["a": 0, "aa": 1, "aaaa": 2]
        let tokenizer = try TokenizerJSONBuilder(vocab: vocab, merges: ["a a", "aa aa"]).build()
        XCTAssertEqual(tokenizer.encode("aaaaaaa"), [2, 1, 0])
    }

    func testMergesMayBePairs() throws {
        let tokenizer = try TokenizerJSONBuilder(vocab: abcVocab, merges: [["a", "b"], ["ab", "c"]]).build()
        XCTAssertEqual(tokenizer.encode("abc"), [5])
    }

    func testVersionLineIsSkipped() throws {
        let tokenizer = try TokenizerJSONBuilder(vocab: abcVocab, merges: ["#version: 0.2", "a b", "ab c"]).build()
        XCTAssertEqual(tokenizer.encode("abcab"), [5, 3])
    }

    func testCharacterOutsideVocabularyIsDroppedWithoutUnk() throws {
        let tokenizer = try TokenizerJSONBuilder(vocab: abcVocab, merges: ["a b"]).build()
        // "x" is dropped before merging, so a and b become neighbours and merge (as in Rust).
        XCTAssertEqual(tokenizer.encode("axb"), [3])
    }

    func testUnkTokenAndFusing() throws {
        var builder = TokenizerJSONBuilder(vocab: ["<unk>": 0, "a": 1, "b": 2, "ab": 3], merges: ["a b"])
        builder.modelFields["unk_token"] = "<unk>"
        XCTAssertEqual(try builder.build().encode("axyb"), [1, 0, 0, 2])
        builder.modelFields["fuse_unk"] = true
        XCTAssertEqual(try builder.build().encode("axyb"), [1, 0, 2])
    }

    func testByteLevelFastPathAndGenericPathAgree() throws {
        let merges = ["a b", "Ġ ab", "c c", "cc c"]
        let full = try TokenizerJSONBuilder.byteLevel(extra: ["ab", "Ġab", "cc", "ccc"], merges: merges).build()
        // Ids 0…255 follow byte values (Ġ, the space, is 32); then ab, Ġab, cc, ccc.
        // " cccc": c+c merges leftmost first, twice; (cc, cc) has no rule.
        XCTAssertEqual(full.encode("ab ab cccc"), [256, 257, 32, 258, 258])
        // Removing one byte character from the vocabulary disables the raw-byte fast path;
        // the generic path must give the same ids for words that do not need that byte.
        var partial = TokenizerJSONBuilder.byteLevel(extra: ["ab", "Ġab", "cc", "ccc"], merges: merges)
        partial.vocab.removeValue(forKey: "z")
        let generic = try partial.build()
        XCTAssertEqual(generic.encode("ab ab cccc"), full.encode("ab ab cccc"))
        XCTAssertEqual(generic.encode("azc"), [Int(UInt8(ascii: "a")), Int(UInt8(ascii: "c"))])
    }
}
