import Foundation

/// A shipped resource that cannot be found.
public enum ResourceError: Error, LocalizedError, Equatable {
    /// `model: default` (or no --model) and the shipped model is not installed.
    case defaultModelMissing(name: String)

    public var errorDescription: String? {
        switch self {
        case let .defaultModelMissing(name): "the default model (Models/\(name)) is not installed; pass --model DIR"
        }
    }
}
