import ArgumentParser
import Foundation

/// A failure reported to the user as one line on stderr, exit status 1.
struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

extension CLIError {
    /// Runs `body`, turning a library error into the one line the user sees (its errorDescription).
    static func reporting<T>(_ body: () throws -> T) throws -> T {
        do { return try body() } catch let error as any LocalizedError {
            throw CLIError(error.errorDescription ?? "\(error)")
        }
    }
}
