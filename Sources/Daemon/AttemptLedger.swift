import Foundation
import Pipeline

/// Attempts per file, persisted in each watched directory (`.flamingo-attempts.json`) before the
/// work starts, so that a file which kills its worker, or the daemon itself (kill -9, an
/// out-of-memory kill of the whole unit), gets at most `--max-attempts` tries across restarts and then
/// an error sidecar, instead of a crash loop that starves every other file (docs/DAEMON.md).
/// An entry is dropped once the file's final sidecar is written, and ignored once the file's bytes
/// change (a new fingerprint starts from zero).
public final class AttemptLedger: @unchecked Sendable {
    public static let fileName = ".flamingo-attempts.json"

    struct Entry: Codable {
        var fingerprint: Sidecar.Fingerprint
        var attempts: Int
        var lastError: String?

        enum CodingKeys: String, CodingKey { case fingerprint, attempts, lastError = "last_error" }
    }

    private let directories: [String]
    private let lock = NSLock()
    private var entries: [String: [String: Entry]] = [:]  // directory -> path -> entry

    /// Loads each directory's ledger (an unreadable one is started afresh).
    public init(directories: [String]) {
        self.directories = directories.sorted { $0.count > $1.count }  // the deepest directory owns a path
        for directory in directories {
            let url = URL(fileURLWithPath: directory).appendingPathComponent(Self.fileName)
            if let data = try? Data(contentsOf: url), let loaded = try? JSONDecoder().decode([String: Entry].self, from: data) {
                entries[directory] = loaded
            }
        }
    }

    private func directory(of path: String) -> String? {
        directories.first { path.hasPrefix($0.hasSuffix("/") ? $0 : $0 + "/") }
    }

    /// Attempts already started on these exact bytes (0 when none, or when the file changed since).
    public func attempts(for path: String, fingerprint: Sidecar.Fingerprint?) -> Int {
        lock.withLock {
            guard let directory = directory(of: path), let entry = entries[directory]?[path],
                  entry.fingerprint == fingerprint else { return 0 }
            return entry.attempts
        }
    }

    /// What the last attempt on `path` ended with, if it was recorded.
    public func lastError(for path: String) -> String? {
        lock.withLock { directory(of: path).flatMap { entries[$0]?[path]?.lastError } }
    }

    /// Records that attempt `attempt` on these bytes starts now, on disk before returning.
    public func begin(_ path: String, fingerprint: Sidecar.Fingerprint, attempt: Int) throws {
        try update(path) { entry in
            entry = Entry(fingerprint: fingerprint, attempts: attempt, lastError: entry?.fingerprint == fingerprint ? entry?.lastError : nil)
        }
    }

    /// Records how the current attempt ended (a worker's death, a timeout).
    public func record(_ path: String, error: String) throws {
        try update(path) { entry in entry?.lastError = error }
    }

    /// The file's final sidecar is written: forget it.
    public func finish(_ path: String) throws {
        try update(path) { entry in entry = nil }
    }

    private func update(_ path: String, _ change: (inout Entry?) -> Void) throws {
        try lock.withLock {
            guard let directory = directory(of: path) else { return }
            var table = entries[directory] ?? [:]
            var entry = table[path]
            change(&entry)
            guard entry != nil || table[path] != nil else { return }
            table[path] = entry
            entries[directory] = table
            try write(table, to: directory)
        }
    }

    /// Atomically, as sidecars are written (SidecarWriter: temporary file, fsync, rename, fsync of the
    /// directory; a temporary file a kill leaves is removed at startup).
    private func write(_ table: [String: Entry], to directory: String) throws {
        let url = URL(fileURLWithPath: directory).appendingPathComponent(Self.fileName)
        if table.isEmpty {
            if FileManager.default.fileExists(atPath: url.path) { try FileManager.default.removeItem(at: url) }
            return
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        try SidecarWriter.write(try encoder.encode(table), to: url.path, requireOurs: false)
    }
}
