import Cluster
import Foundation
import Logging

/// A short database session for one command (`search`, `status`): the connection pool runs for the
/// length of `body`, which must finish within `timeoutSeconds` (an unreachable server is an error,
/// not a hang).
enum DatabaseSession {
    static func with<T: Sendable>(_ url: String, timeoutSeconds: Double = 20,
                                  _ body: @escaping @Sendable (JobStore) async throws -> T) async throws -> T {
        let database: DatabaseURL
        do { database = try DatabaseURL(url) } catch { throw CLIError(error.localizedDescription) }
        let store = JobStore(url: database, logger: Logger(label: "flamingo.database"))
        return try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask { await store.run(); return nil }
            group.addTask {
                do { return try await body(store) } catch {
                    throw CLIError((error as? any LocalizedError)?.errorDescription ?? "\(error)")
                }
            }
            group.addTask {
                try await Task.sleep(nanoseconds: UInt64(timeoutSeconds * 1e9))
                throw CLIError("\(ClusterError.redacted(url)): no answer from the database within \(Int(timeoutSeconds)) s")
            }
            defer { group.cancelAll() }
            while let next = try await group.next() {
                if let value = next { return value }
            }
            throw CLIError("the database session ended without an answer")
        }
    }

    /// `--database`, else $FLAMINGO_DATABASE_URL.
    static func url(_ option: String?) -> String? {
        if let option, !option.isEmpty { return option }
        let environment = ProcessInfo.processInfo.environment["FLAMINGO_DATABASE_URL"]
        return environment?.isEmpty == false ? environment : nil
    }
}
