import Foundation

/// Inputs to `flamingo convert` that do not fit the engine or each other.
public enum ConversionError: Error, LocalizedError, Sendable {
    case missingFile(path: String, what: String)
    case badConfig(path: String, reason: String)
    case unsupportedLanguageModel(path: String, modelType: String)
    case missingTensor(source: String, key: String)
    case mismatch(key: String, reason: String)
    case unexpectedTensors(source: String, keys: [String])
    case tokenizer(path: String, reason: String)
    case quantization(reason: String)

    public var errorDescription: String? {
        switch self {
        case let .missingFile(path, what): "\(path): \(what) not found"
        case let .quantization(reason): reason
        case let .badConfig(path, reason): "\(path): \(reason)"
        case let .unsupportedLanguageModel(path, type):
            "\(path): language model type '\(type)' is not supported (supported: mosaic_gpt = MPT-1B, mpt = MPT-7B, gpt_neox = RedPajama-INCITE)"
        case let .missingTensor(source, key): "\(source): missing tensor '\(key)'"
        case let .mismatch(key, reason): "tensor '\(key)': \(reason)"
        case let .unexpectedTensors(source, keys):
            "\(source): \(keys.count) tensor(s) this converter does not know where to put: " + keys.prefix(8).joined(separator: ", ") + (keys.count > 8 ? ", ..." : "")
        case let .tokenizer(path, reason): "\(path): \(reason)"
        }
    }
}
