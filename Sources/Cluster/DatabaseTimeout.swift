import Foundation

/// A database step that took longer than its bound (a connection that hangs instead of failing).
struct DatabaseTimeout: Error, LocalizedError {
    let seconds: Double
    var errorDescription: String? { "no answer from the database within \(Int(seconds)) s" }

    /// `step`, or a DatabaseTimeout after `seconds` (the step is then cancelled).
    static func bounded<T: Sendable>(_ seconds: Double, _ step: @escaping @Sendable () async throws -> T) async throws -> T {
        try await withThrowingTaskGroup(of: T.self) { group in
            group.addTask { try await step() }
            group.addTask {
                try await Task.sleep(nanoseconds: UInt64(seconds * 1e9))
                throw DatabaseTimeout(seconds: seconds)
            }
            defer { group.cancelAll() }
            guard let first = try await group.next() else { throw DatabaseTimeout(seconds: seconds) }
            return first
        }
    }
}
