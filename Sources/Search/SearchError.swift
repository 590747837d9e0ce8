import Foundation

/// Why a search could not be made.
public enum SearchError: Error, LocalizedError, Equatable {
    /// The query has no word to look for (only punctuation or spaces).
    case emptyQuery(String)
    /// The index could not be opened, built or read.
    case index(path: String, reason: String)

    public var errorDescription: String? {
        switch self {
        case let .emptyQuery(query): "the query \"\(query)\" has no word to search for"
        case let .index(path, reason): "\(path): the search index cannot be used: \(reason)"
        }
    }
}
