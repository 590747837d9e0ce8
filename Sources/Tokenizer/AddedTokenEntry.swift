/// One element of tokenizer.json's `added_tokens`.
struct AddedTokenEntry: Decodable, Sendable {
    let id: Int
    let content: String
    let singleWord: Bool
    let lstrip: Bool
    let rstrip: Bool
    let normalized: Bool
    let special: Bool

    private enum CodingKeys: String, CodingKey {
        case id, content, lstrip, rstrip, normalized, special
        case singleWord = "single_word"
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decode(Int.self, forKey: .id)
        content = try container.decode(String.self, forKey: .content)
        special = try container.decodeIfPresent(Bool.self, forKey: .special) ?? false
        singleWord = try container.decodeIfPresent(Bool.self, forKey: .singleWord) ?? false
        lstrip = try container.decodeIfPresent(Bool.self, forKey: .lstrip) ?? false
        rstrip = try container.decodeIfPresent(Bool.self, forKey: .rstrip) ?? false
        // Rust's `AddedToken::default()` has normalized: true.
        normalized = try container.decodeIfPresent(Bool.self, forKey: .normalized) ?? true
    }
}
