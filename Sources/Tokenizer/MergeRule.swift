/// One entry of `model.merges`: `"a b"` (the 0.13 format) or `["a", "b"]` (newer files).
/// `#version` lines, which old merges.txt-derived lists may carry, are skipped as Rust does.
enum MergeRule: Decodable, Sendable {
    case pair(String, String)
    case versionComment

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let field = FieldPath.describe(decoder.codingPath)
        if let line = try? container.decode(String.self) {
            if line.hasPrefix("#version") {
                self = .versionComment
                return
            }
            // Rust splits on single spaces and requires exactly two parts.
            let parts = line.split(separator: " ", omittingEmptySubsequences: false)
            guard parts.count == 2 else {
                throw TokenizerError.invalidValue(field: field, reason: "merge '\(line)' is not two tokens separated by one space")
            }
            self = .pair(String(parts[0]), String(parts[1]))
        } else if let pair = try? container.decode([String].self) {
            guard pair.count == 2 else {
                throw TokenizerError.invalidValue(field: field, reason: "a merge pair must have exactly two tokens, found \(pair.count)")
            }
            self = .pair(pair[0], pair[1])
        } else {
            throw TokenizerError.invalidValue(field: field, reason: "a merge must be a string \"a b\" or an array [\"a\", \"b\"]")
        }
    }
}
