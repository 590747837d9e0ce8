/// The `TemplateProcessing` post-processor, single-sequence template only: the ids of the
/// template's special tokens are placed around the sequence (`$A`).
struct TemplateProcessing: Decodable, Sendable {
    /// The single-sequence template: `nil` stands for the sequence, otherwise the ids to insert.
    let single: [[Int]?]

    private enum CodingKeys: String, CodingKey {
        case single
        case specialTokens = "special_tokens"
    }

    /// `{"SpecialToken": {"id": "<s>", "type_id": 0}}` or `{"Sequence": {"id": "A", "type_id": 0}}`.
    private enum Piece: Decodable {
        case specialToken(String)
        case sequence(String)

        private enum CodingKeys: String, CodingKey {
            case specialToken = "SpecialToken"
            case sequence = "Sequence"
        }

        private struct Reference: Decodable {
            let id: String
        }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            if let special = try container.decodeIfPresent(Reference.self, forKey: .specialToken) {
                self = .specialToken(special.id)
            } else if let sequence = try container.decodeIfPresent(Reference.self, forKey: .sequence) {
                self = .sequence(sequence.id)
            } else {
                throw TokenizerError.invalidValue(
                    field: FieldPath.describe(decoder.codingPath),
                    reason: "a template piece must be {\"SpecialToken\": …} or {\"Sequence\": …}")
            }
        }
    }

    private struct SpecialToken: Decodable {
        let ids: [Int]
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let pieces = try container.decode([Piece].self, forKey: .single)
        let specialTokens = try container.decodeIfPresent([String: SpecialToken].self, forKey: .specialTokens) ?? [:]
        let field = FieldPath.describe(decoder.codingPath, CodingKeys.single)
        single = try pieces.map { piece in
            switch piece {
            case let .sequence(name):
                guard name == "A" else {
                    throw TokenizerError.invalidValue(field: field, reason: "the single template can only hold sequence A, found '\(name)'")
                }
                return nil
            case let .specialToken(name):
                guard let token = specialTokens[name] else {
                    throw TokenizerError.unknownToken(field: field, token: name)
                }
                return token.ids
            }
        }
    }

    func process(_ ids: [Int]) -> [Int] {
        var result: [Int] = []
        result.reserveCapacity(ids.count + 4)
        for piece in single {
            if let specialIds = piece {
                result.append(contentsOf: specialIds)
            } else {
                result.append(contentsOf: ids)
            }
        }
        return result
    }
}
