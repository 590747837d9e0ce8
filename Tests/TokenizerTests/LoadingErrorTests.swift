import Foundation
import XCTest
@testable import Tokenizer

/// Loading fails with an error that names the field at fault.
final class LoadingErrorTests: XCTestCase {
    private let vocab = ["a": 0, "b": 1, "ab": 2]

    private func loadingError(_ configure: (inout TokenizerJSONBuilder) -> Void) -> TokenizerError? {
        var builder = TokenizerJSONBuilder(vocab: vocab, merges: ["a b"])
        configure(&builder)
        do {
            _ = try builder.build()
            return nil
        } catch {
            return error as? TokenizerError
        }
    }

    func testUnsupportedPreTokenizerNamesTheField() {
        let error = loadingError { $0.fields["pre_tokenizer"] = ["type": "Metaspace", "replacement": "▁", "add_prefix_space": true] }
        XCTAssertEqual(error, .unsupportedType(field: "pre_tokenizer", type: "Metaspace"))
        XCTAssertEqual(error?.errorDescription, "tokenizer.json: pre_tokenizer type 'Metaspace' is not supported")
    }

    func testUnsupportedNestedStageNamesItsPath() {
        let error = loadingError {
            $0.fields["pre_tokenizer"] = ["type": "Sequence", "pretokenizers": [["type": "Digits", "individual_digits": true], ["type": "Punctuation"]]]
        }
        XCTAssertEqual(error, .unsupportedType(field: "pre_tokenizer.pretokenizers[1]", type: "Punctuation"))
    }

    func testUnsupportedStagesOfEveryKind() {
        XCTAssertEqual(loadingError { $0.fields["normalizer"] = ["type": "BertNormalizer"] },
                       .unsupportedType(field: "normalizer", type: "BertNormalizer"))
        XCTAssertEqual(loadingError { $0.fields["normalizer"] = ["type": "Sequence", "normalizers": [["type": "NFC"], ["type": "Precompiled"]]] },
                       .unsupportedType(field: "normalizer.normalizers[1]", type: "Precompiled"))
        XCTAssertEqual(loadingError { $0.fields["post_processor"] = ["type": "RobertaProcessing"] },
                       .unsupportedType(field: "post_processor", type: "RobertaProcessing"))
        XCTAssertEqual(loadingError { $0.fields["decoder"] = ["type": "WordPiece", "prefix": "##"] },
                       .unsupportedType(field: "decoder", type: "WordPiece"))
        XCTAssertEqual(loadingError { $0.modelFields["type"] = "Unigram" },
                       .unsupportedType(field: "model", type: "Unigram"))
    }

    func testUnsupportedOptions() {
        XCTAssertEqual(loadingError { $0.modelFields["dropout"] = 0.1 }?.isUnsupportedOption(field: "model.dropout"), true)
        XCTAssertEqual(loadingError { $0.fields["truncation"] = ["max_length": 8] }?.isUnsupportedOption(field: "truncation"), true)
        XCTAssertEqual(loadingError { $0.fields["padding"] = ["strategy": "BatchLongest"] }?.isUnsupportedOption(field: "padding"), true)
    }

    func testMalformedJSON() {
        for text in ["{\"version\": \"1.0\", ", "not json at all", ""] {
            XCTAssertThrowsError(try BPETokenizer(data: Data(text.utf8))) { error in
                guard case .malformedJSON = error as? TokenizerError else {
                    return XCTFail("expected malformedJSON for \(text.debugDescription), got \(error)")
                }
                XCTAssertTrue(error.localizedDescription.hasPrefix("tokenizer.json is not valid JSON"), error.localizedDescription)
            }
        }
        XCTAssertThrowsError(try BPETokenizer(data: Data("[1, 2]".utf8))) { error in
            guard case .malformedJSON = error as? TokenizerError else { return XCTFail("got \(error)") }
        }
    }

    func testMissingAndInvalidFields() {
        XCTAssertThrowsError(try BPETokenizer(data: Data(#"{"version": "1.0", "added_tokens": []}"#.utf8))) { error in
            XCTAssertEqual(error as? TokenizerError, .missingField(field: "model"))
        }
        XCTAssertEqual(loadingError { $0.modelFields["vocab"] = "oops" }?.field, "model.vocab")
        XCTAssertEqual(loadingError { $0.merges = ["a b c"] }?.field, "model.merges[0]")
        XCTAssertEqual(loadingError { $0.merges = ["a x"] }, .unknownToken(field: "model.merges[0]", token: "x"))
        XCTAssertEqual(loadingError { $0.fields["version"] = "2.0" }?.field, "version")
        XCTAssertEqual(loadingError { $0.modelFields["unk_token"] = "<unk>" }, .unknownToken(field: "model.unk_token", token: "<unk>"))
    }

    func testInvalidRegexNamesTheField() {
        let error = loadingError {
            $0.fields["pre_tokenizer"] = ["type": "Split", "pattern": ["Regex": "(unclosed"], "behavior": "Isolated", "invert": false]
        }
        guard case let .invalidRegex(field, pattern, _) = error else { return XCTFail("got \(String(describing: error))") }
        XCTAssertEqual(field, "pre_tokenizer.pattern")
        XCTAssertEqual(pattern, "(unclosed")
    }

    func testUnreadableFile() {
        XCTAssertThrowsError(try BPETokenizer(contentsOf: URL(fileURLWithPath: "/nonexistent/tokenizer.json"))) { error in
            guard case .unreadableFile(let path, _) = error as? TokenizerError else { return XCTFail("got \(error)") }
            XCTAssertEqual(path, "/nonexistent/tokenizer.json")
        }
    }
}

private extension TokenizerError {
    var field: String? {
        switch self {
        case let .missingField(field), let .invalidValue(field, _), let .unsupportedType(field, _),
             let .unsupportedOption(field, _), let .invalidRegex(field, _, _), let .unknownToken(field, _):
            return field
        case .unreadableFile, .malformedJSON:
            return nil
        }
    }

    func isUnsupportedOption(field expected: String) -> Bool {
        if case let .unsupportedOption(field, _) = self { return field == expected }
        return false
    }
}
