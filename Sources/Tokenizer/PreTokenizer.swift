/// One `pre_tokenizer` stage, decoded by its `"type"`.
indirect enum PreTokenizer: Decodable, Sendable {
    case byteLevel(ByteLevelPreTokenizer)
    case split(SplitPreTokenizer)
    /// `Digits`: numeric characters (`char::is_numeric`) split off, each on its own when
    /// `individual_digits`, otherwise as contiguous runs.
    case digits(individualDigits: Bool)
    case whitespace
    /// `WhitespaceSplit`: split on `char::is_whitespace`, dropping the whitespace.
    case whitespaceSplit
    case sequence([PreTokenizer])

    private enum CodingKeys: String, CodingKey {
        case type
        case pretokenizers
        case individualDigits = "individual_digits"
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let type = try container.decode(String.self, forKey: .type)
        switch type {
        case "ByteLevel":
            self = .byteLevel(try ByteLevelPreTokenizer(from: decoder))
        case "Split":
            self = .split(try SplitPreTokenizer(from: decoder))
        case "Digits":
            self = .digits(individualDigits: try container.decodeIfPresent(Bool.self, forKey: .individualDigits) ?? false)
        case "Whitespace":
            self = .whitespace
        case "WhitespaceSplit":
            self = .whitespaceSplit
        case "Sequence":
            self = .sequence(try container.decode([PreTokenizer].self, forKey: .pretokenizers))
        default:
            throw TokenizerError.unsupportedType(field: FieldPath.describe(decoder.codingPath), type: type)
        }
    }

    /// The stages in application order, with nested sequences flattened (a `Sequence` just
    /// applies its members one after another to every piece).
    var flattened: [PreTokenizer] {
        if case let .sequence(members) = self {
            return members.flatMap(\.flattened)
        }
        return [self]
    }

    /// The pieces this stage splits `piece` into, empty ones dropped (as
    /// `PreTokenizedString::split` drops them). For `ByteLevel` the pieces are not yet rewritten
    /// into the byte-level alphabet.
    func split(_ piece: Substring) -> [Substring] {
        let pieces: [Substring]
        switch self {
        case let .byteLevel(byteLevel):
            pieces = byteLevel.split(piece)
        case let .split(split):
            pieces = split.split(piece)
        case let .digits(individualDigits):
            let matches = PatternMatch.characters(in: piece, where: UnicodeClassifier.isNumeric)
            let behavior: SplitDelimiterBehavior = individualDigits ? .isolated : .contiguous
            pieces = behavior.apply(matches).map { piece[$0] }
        case .whitespace:
            pieces = WhitespacePreTokenizer.split(piece)
        case .whitespaceSplit:
            let matches = PatternMatch.characters(in: piece, where: UnicodeClassifier.isWhitespace)
            pieces = SplitDelimiterBehavior.removed.apply(matches).map { piece[$0] }
        case let .sequence(members):
            pieces = members.reduce([piece]) { current, member in current.flatMap { member.split($0) } }
        }
        return pieces.filter { !$0.isEmpty }
    }
}
