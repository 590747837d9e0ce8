import Foundation

/// A pipeline file that cannot be used, with the file, the line and the reason.
public struct PipelineError: Error, LocalizedError, Equatable, Sendable {
    public var file: String
    /// 1-based line, when the problem has a place in the file.
    public var line: Int?
    public var reason: String

    public init(file: String, line: Int?, reason: String) {
        self.file = file
        self.line = line
        self.reason = reason
    }

    public var errorDescription: String? {
        "\(file)\(line.map { ":\($0)" } ?? ""): \(reason)"
    }
}
