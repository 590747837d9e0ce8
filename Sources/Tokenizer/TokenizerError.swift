import Foundation

/// Everything that can go wrong while loading a `tokenizer.json`.
///
/// Encoding and decoding never throw: once a tokenizer is loaded, every input string has an
/// encoding (as in the Rust `tokenizers` library, where they only fail on internal errors).
public enum TokenizerError: Error, LocalizedError, Equatable, Sendable {
    /// The file could not be read from disk.
    case unreadableFile(path: String, reason: String)
    /// The bytes are not JSON, or not the JSON object a tokenizer.json holds.
    case malformedJSON(reason: String)
    /// A field that the format requires is absent, e.g. `model.vocab`.
    case missingField(field: String)
    /// A field is present but holds a value of the wrong kind or out of range.
    case invalidValue(field: String, reason: String)
    /// A stage (`normalizer`, `pre_tokenizer`, `model`, `post_processor`, `decoder`) has a
    /// `"type"` this implementation does not provide.
    case unsupportedType(field: String, type: String)
    /// A stage is supported, but one of its options is set to something this implementation
    /// does not reproduce (e.g. BPE `dropout`, or `truncation`/`padding`).
    case unsupportedOption(field: String, reason: String)
    /// A `Split`/`Replace` regex could not be compiled.
    case invalidRegex(field: String, pattern: String, reason: String)
    /// A merge, the unk token or a template refers to a token that is not in the vocabulary.
    case unknownToken(field: String, token: String)

    public var errorDescription: String? {
        switch self {
        case let .unreadableFile(path, reason):
            return "cannot read tokenizer file '\(path)': \(reason)"
        case let .malformedJSON(reason):
            return "tokenizer.json is not valid JSON: \(reason)"
        case let .missingField(field):
            return "tokenizer.json: required field '\(field)' is missing"
        case let .invalidValue(field, reason):
            return "tokenizer.json: invalid value for '\(field)': \(reason)"
        case let .unsupportedType(field, type):
            return "tokenizer.json: \(field) type '\(type)' is not supported"
        case let .unsupportedOption(field, reason):
            return "tokenizer.json: \(field) is not supported: \(reason)"
        case let .invalidRegex(field, pattern, reason):
            return "tokenizer.json: \(field) regex '\(pattern)' cannot be compiled: \(reason)"
        case let .unknownToken(field, token):
            return "tokenizer.json: \(field) refers to token '\(token)' which is not in the vocabulary"
        }
    }
}
