/// The `post_processor` stage, decoded by its `"type"`. `encode` always adds special tokens
/// (the Python `encode` default, `add_special_tokens=True`).
indirect enum PostProcessor: Decodable, Sendable {
    /// Only adjusts offsets in Rust; the ids are unchanged.
    case byteLevel
    case template(TemplateProcessing)
    /// Applies its members in order (Rust `processors::Sequence`).
    case sequence([PostProcessor])

    private enum CodingKeys: String, CodingKey {
        case type
        case processors
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let type = try container.decode(String.self, forKey: .type)
        switch type {
        case "ByteLevel":
            self = .byteLevel
        case "TemplateProcessing":
            self = .template(try TemplateProcessing(from: decoder))
        case "Sequence":
            self = .sequence(try container.decode([PostProcessor].self, forKey: .processors))
        default:
            throw TokenizerError.unsupportedType(field: FieldPath.describe(decoder.codingPath), type: type)
        }
    }

    func process(_ ids: [Int]) -> [Int] {
        switch self {
        case .byteLevel:
            return ids
        case let .template(template):
            return template.process(ids)
        case let .sequence(processors):
            return processors.reduce(ids) { $1.process($0) }
        }
    }
}
