import Foundation
@testable import Tokenizer

/// Builds small tokenizer.json documents for unit tests.
struct TokenizerJSONBuilder {
    var vocab: [String: Int]
    var merges: [Any]
    var fields: [String: Any] = [:]
    var modelFields: [String: Any] = [:]

    init(vocab: [String: Int], merges: [Any]) {
        self.vocab = vocab
        self.merges = merges
    }

    /// A byte-level vocabulary: the 256 alphabet characters (ids 0…255) plus `extra`.
    static func byteLevel(extra: [String], merges: [Any]) -> TokenizerJSONBuilder {
        var vocab: [String: Int] = [:]
        for (id, scalar) in ByteLevelAlphabet.scalarForByte.enumerated() {
            vocab[String(scalar)] = id
        }
        for token in extra where vocab[token] == nil {
            vocab[token] = vocab.count
        }
        var builder = TokenizerJSONBuilder(vocab: vocab, merges: merges)
        builder.fields["pre_tokenizer"] = ["type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true]
        builder.fields["decoder"] = ["type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true]
        return builder
    }

    func data() throws -> Data {
        var model: [String: Any] = [
            "type": "BPE", "dropout": NSNull(), "unk_token": NSNull(), "continuing_subword_prefix": NSNull(),
            "end_of_word_suffix": NSNull(), "fuse_unk": false, "vocab": vocab, "merges": merges,
        ]
        model.merge(modelFields) { $1 }
        var json: [String: Any] = [
            "version": "1.0", "truncation": NSNull(), "padding": NSNull(), "added_tokens": [Any](),
            "normalizer": NSNull(), "pre_tokenizer": NSNull(), "post_processor": NSNull(), "decoder": NSNull(),
            "model": model,
        ]
        json.merge(fields) { $1 }
        return try JSONSerialization.data(withJSONObject: json)
    }

    func build() throws -> BPETokenizer {
        try BPETokenizer(data: data())
    }
}
