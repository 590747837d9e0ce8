import Foundation

/// Problems with a labelled evaluation set.
public enum EvaluationError: Error, LocalizedError, Sendable {
    case unreadable(path: String, reason: String)
    case badLine(path: String, line: Int, reason: String)
    case unknownClip(path: String, line: Int, clip: String)
    case emptySet(path: String)

    public var errorDescription: String? {
        switch self {
        case let .unreadable(path, reason): "\(path): cannot read: \(reason)"
        case let .badLine(path, line, reason): "\(path):\(line): \(reason)"
        case let .unknownClip(path, line, clip): "\(path):\(line): refers to clip \(clip), which labels.jsonl does not list"
        case let .emptySet(path): "\(path): no labelled clips"
        }
    }
}
