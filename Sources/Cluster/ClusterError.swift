import Foundation

/// What can go wrong between a worker and the cluster's database.
public enum ClusterError: Error, LocalizedError, Equatable {
    /// `--database` / FLAMINGO_DATABASE_URL is not a postgres:// URL we can use.
    case badDatabaseURL(String, reason: String)
    /// `--share NAME=ROOT` is malformed, names a root that is not a directory, or repeats a name.
    case badShare(String, reason: String)
    /// A watched directory lies under no `--share` root.
    case outsideShares(String)
    /// The database refused or failed a statement (with PostgreSQL's message).
    case database(String)
    /// The schema in the database is newer than this program knows.
    case schemaTooNew(found: Int, known: Int)

    public var errorDescription: String? {
        switch self {
        case let .badDatabaseURL(url, reason): "database URL \(Self.redacted(url)): \(reason)"
        case let .badShare(value, reason): "--share \(value): \(reason)"
        case let .outsideShares(path): "\(path): is under no --share root (every watched directory must be inside a share, so that hosts agree on paths)"
        case let .database(message): "database: \(message)"
        case let .schemaTooNew(found, known): "database schema version \(found) is newer than this program's (\(known)); upgrade flamingo on this host"
        }
    }

    /// The URL without its password (errors and logs never show it).
    public static func redacted(_ url: String) -> String {
        guard var components = URLComponents(string: url), components.password != nil else { return url }
        components.password = "***"
        return components.string ?? url
    }
}
