/// The `Split` pre-tokenizer: splits on a literal or regex `pattern` with a delimiter
/// `behavior`; with `invert`, the pieces between matches count as the delimiters.
struct SplitPreTokenizer: Decodable, Sendable {
    let pattern: TextPattern
    let behavior: SplitDelimiterBehavior
    let invert: Bool

    private enum CodingKeys: String, CodingKey {
        case pattern, behavior, invert
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        pattern = try container.decode(TextPattern.self, forKey: .pattern)
        let behaviorName = try container.decode(String.self, forKey: .behavior)
        guard let behavior = SplitDelimiterBehavior(rawValue: behaviorName) else {
            throw TokenizerError.invalidValue(
                field: FieldPath.describe(decoder.codingPath, CodingKeys.behavior),
                reason: "unknown split behavior '\(behaviorName)'")
        }
        self.behavior = behavior
        invert = try container.decodeIfPresent(Bool.self, forKey: .invert) ?? false
    }

    func split(_ piece: Substring) -> [Substring] {
        let text = String(piece)
        let tiled = PatternMatch.tiling(Substring(text), matches: pattern.matches(in: text))
        let matches = invert ? PatternMatch.inverted(tiled) : tiled
        return behavior.apply(matches).map { text[$0] }
    }
}
