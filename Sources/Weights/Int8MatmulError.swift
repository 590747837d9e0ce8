import Foundation

/// oneDNN could not set up or run an int8 matmul (the engine then widens the weights to float32 instead).
public enum Int8MatmulError: LocalizedError, Sendable {
    case oneDNN(String)

    public var errorDescription: String? {
        switch self {
        case let .oneDNN(reason): "int8 matmul: \(reason)"
        }
    }
}
