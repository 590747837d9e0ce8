import Foundation
import Weights

public enum ModelError: Error, LocalizedError, Sendable {
    case invalidConfiguration(path: String, reason: String)
    case weights(WeightError)
    case invalidInput(String)

    public var errorDescription: String? {
        switch self {
        case let .invalidConfiguration(path, reason): "\(path): \(reason)"
        case let .weights(error): error.localizedDescription
        case let .invalidInput(reason): reason
        }
    }
}
