import Foundation
import Logging
import PostgresNIO

/// `postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?sslmode=disable|prefer|require][&host=/socket/dir]`
/// (libpq's URL form; `postgresql://` too). A `host` query parameter that is a directory means the
/// server's Unix socket in it (`.s.PGSQL.PORT`), as libpq reads it.
public struct DatabaseURL: Sendable {
    public let text: String
    public var configuration: PostgresClient.Configuration

    public init(_ text: String) throws(ClusterError) {
        self.text = text
        guard let components = URLComponents(string: text), let scheme = components.scheme,
              scheme == "postgres" || scheme == "postgresql" else {
            throw .badDatabaseURL(text, reason: "expected postgres://USER@HOST[:PORT]/DATABASE")
        }
        let query = Dictionary((components.queryItems ?? []).map { ($0.name, $0.value ?? "") }) { $1 }
        let user = components.user.flatMap { $0.removingPercentEncoding } ?? query["user"] ?? ProcessInfo.processInfo.environment["USER"] ?? "postgres"
        let password = components.password.flatMap { $0.removingPercentEncoding } ?? query["password"]
        let database = components.path.split(separator: "/").first.map(String.init).flatMap { $0.removingPercentEncoding }
        let port = components.port ?? query["port"].flatMap(Int.init) ?? 5432
        var configuration: PostgresClient.Configuration
        if let socketDirectory = query["host"], socketDirectory.hasPrefix("/") {
            configuration = .init(unixSocketPath: (socketDirectory as NSString).appendingPathComponent(".s.PGSQL.\(port)"),
                                  username: user, password: password, database: database)
        } else {
            guard let host = components.host, !host.isEmpty else { throw .badDatabaseURL(text, reason: "no host") }
            switch query["sslmode"] ?? "prefer" {
            case "disable":
                configuration = .init(host: host, port: port, username: user, password: password, database: database, tls: .disable)
            case "prefer", "allow":
                configuration = .init(host: host, port: port, username: user, password: password, database: database,
                                      tls: .prefer(.makeClientConfiguration()))
            case "require", "verify-ca", "verify-full":
                configuration = .init(host: host, port: port, username: user, password: password, database: database,
                                      tls: .require(.makeClientConfiguration()))
            case let other:
                throw .badDatabaseURL(text, reason: "sslmode=\(other) is not one of disable, prefer, require")
            }
        }
        configuration.options.connectTimeout = .seconds(5)
        configuration.options.maximumConnections = 8
        self.configuration = configuration
    }
}
