/// The top level of tokenizer.json.
struct TokenizerFile: Decodable, Sendable {
    let addedTokens: [AddedTokenEntry]
    let normalizer: Normalizer?
    let preTokenizer: PreTokenizer?
    let model: BPEModelConfiguration
    let postProcessor: PostProcessor?
    let decoder: TokenDecoder?

    private enum CodingKeys: String, CodingKey {
        case version, truncation, padding, normalizer, model, decoder
        case addedTokens = "added_tokens"
        case preTokenizer = "pre_tokenizer"
        case postProcessor = "post_processor"
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        if let version = try container.decodeIfPresent(String.self, forKey: .version), version != "1.0" {
            throw TokenizerError.invalidValue(field: "version", reason: "unknown tokenizer version '\(version)', expected '1.0'")
        }
        // Rust applies these inside `encode`; ids would differ if they were ignored.
        for key in [CodingKeys.truncation, .padding] where container.contains(key) {
            if try !container.decodeNil(forKey: key) {
                throw TokenizerError.unsupportedOption(field: key.stringValue, reason: "only null is supported")
            }
        }
        addedTokens = try container.decodeIfPresent([AddedTokenEntry].self, forKey: .addedTokens) ?? []
        normalizer = try container.decodeIfPresent(Normalizer.self, forKey: .normalizer)
        preTokenizer = try container.decodeIfPresent(PreTokenizer.self, forKey: .preTokenizer)
        model = try container.decode(BPEModelConfiguration.self, forKey: .model)
        postProcessor = try container.decodeIfPresent(PostProcessor.self, forKey: .postProcessor)
        self.decoder = try container.decodeIfPresent(TokenDecoder.self, forKey: .decoder)
    }
}
