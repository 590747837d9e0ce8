/// The `model` object of tokenizer.json, which must be a BPE model.
struct BPEModelConfiguration: Decodable, Sendable {
    let vocab: [String: Int]
    let merges: [MergeRule]
    let unkToken: String?
    let continuingSubwordPrefix: String?
    let endOfWordSuffix: String?
    let fuseUnk: Bool
    let byteFallback: Bool
    let ignoreMerges: Bool

    private enum CodingKeys: String, CodingKey {
        case type, vocab, merges, dropout
        case unkToken = "unk_token"
        case continuingSubwordPrefix = "continuing_subword_prefix"
        case endOfWordSuffix = "end_of_word_suffix"
        case fuseUnk = "fuse_unk"
        case byteFallback = "byte_fallback"
        case ignoreMerges = "ignore_merges"
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        // Rust's untagged ModelWrapper accepts a BPE object without "type"; any other type is
        // a different model.
        if let type = try container.decodeIfPresent(String.self, forKey: .type), type != "BPE" {
            throw TokenizerError.unsupportedType(field: FieldPath.describe(decoder.codingPath), type: type)
        }
        if let dropout = try container.decodeIfPresent(Double.self, forKey: .dropout) {
            throw TokenizerError.unsupportedOption(
                field: FieldPath.describe(decoder.codingPath, CodingKeys.dropout),
                reason: "BPE dropout \(dropout) makes encoding random; it must be null")
        }
        vocab = try container.decode([String: Int].self, forKey: .vocab)
        merges = try container.decode([MergeRule].self, forKey: .merges)
        unkToken = try container.decodeIfPresent(String.self, forKey: .unkToken)
        continuingSubwordPrefix = try container.decodeIfPresent(String.self, forKey: .continuingSubwordPrefix)
        endOfWordSuffix = try container.decodeIfPresent(String.self, forKey: .endOfWordSuffix)
        fuseUnk = try container.decodeIfPresent(Bool.self, forKey: .fuseUnk) ?? false
        byteFallback = try container.decodeIfPresent(Bool.self, forKey: .byteFallback) ?? false
        ignoreMerges = try container.decodeIfPresent(Bool.self, forKey: .ignoreMerges) ?? false
        for (token, id) in vocab where id < 0 || id > Int(Int32.max) {
            throw TokenizerError.invalidValue(
                field: FieldPath.describe(decoder.codingPath, CodingKeys.vocab),
                reason: "token '\(token)' has id \(id), outside 0...\(Int32.max)")
        }
    }
}
