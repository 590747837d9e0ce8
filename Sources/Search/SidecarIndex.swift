import Foundation
import GRDB
import Pipeline

/// `flamingo search` on one machine, without a database: an embedded SQLite FTS5 index over the
/// sidecars under a directory (docs/CLUSTER.md, "Search"). The index lives in the directory as
/// `.flamingo-search.sqlite` (a dotfile: the watcher ignores it), or in memory where the directory is
/// not writable; each search first brings it up to date, reading only the sidecars whose size or
/// mtime changed, and forgetting the ones that are gone.
public final class SidecarIndex {
    public static let fileName = ".flamingo-search.sqlite"

    let directory: String
    let location: String
    private let database: DatabaseQueue

    /// Opens (or creates) the index of `directory`'s sidecars at `indexPath` (default: in the
    /// directory; in memory if that cannot be written).
    public init(directory: String, indexPath: String? = nil) throws(SearchError) {
        self.directory = URL(fileURLWithPath: directory).standardizedFileURL.path
        let path = indexPath ?? (self.directory as NSString).appendingPathComponent(Self.fileName)
        do {
            if indexPath != nil || access(self.directory, W_OK) == 0 {
                var configuration = Configuration()
                configuration.busyMode = .timeout(10)  // two searches of one directory at once wait, not fail
                database = try DatabaseQueue(path: path, configuration: configuration)
                location = path
            } else {
                database = try DatabaseQueue()
                location = ":memory:"
            }
            try database.write { db in
                try db.execute(sql: """
                    CREATE TABLE IF NOT EXISTS sidecar (
                        path TEXT PRIMARY KEY,       -- the video's absolute path
                        size INTEGER NOT NULL,       -- of the sidecar, bytes
                        mtime_ns INTEGER NOT NULL,   -- of the sidecar
                        caption TEXT,
                        segments TEXT NOT NULL       -- JSON: [{start_s, end_s, caption}]
                    );
                    CREATE VIRTUAL TABLE IF NOT EXISTS sidecar_text USING fts5(
                        path UNINDEXED, text, tokenize = 'porter unicode61');
                    """)
            }
        } catch {
            throw .index(path: path, reason: "\(error)")
        }
    }

    /// Brings the index up to date with the sidecars under the directory; returns how many were
    /// (re)read.
    @discardableResult
    public func refresh() throws(SearchError) -> Int {
        var onDisk: [String: (size: Int64, mtimeNs: Int64)] = [:]
        let enumerator = FileManager.default.enumerator(atPath: directory)
        while let entry = enumerator?.nextObject() as? String {
            guard entry.hasSuffix(".flamingo.json"), !(entry as NSString).lastPathComponent.hasPrefix(".") else { continue }
            let sidecarPath = (directory as NSString).appendingPathComponent(entry)
            guard let stamp = Sidecar.Fingerprint.of(path: sidecarPath) else { continue }  // regular files only
            onDisk[String(sidecarPath.dropLast(".flamingo.json".count))] = (stamp.size, stamp.mtimeNs)
        }
        do {
            return try database.write { db in
                var known: [String: (Int64, Int64)] = [:]
                for row in try Row.fetchAll(db, sql: "SELECT path, size, mtime_ns FROM sidecar") {
                    known[row["path"]] = (row["size"], row["mtime_ns"])
                }
                for path in known.keys where onDisk[path] == nil { try remove(path, db) }
                var read = 0
                for (video, stamp) in onDisk where known[video].map({ $0 != (stamp.size, stamp.mtimeNs) }) ?? true {
                    try remove(video, db)
                    read += 1
                    // A sidecar that is not ours, or not a success, is remembered (so it is not re-read)
                    // but has nothing to find.
                    let sidecar = SidecarWriter.existing(Sidecar.path(for: video)).flatMap { $0.status == "ok" ? $0 : nil }
                    let document = sidecar.map(SearchDocument.init)
                    let segments = String(decoding: try JSONEncoder().encode(document?.segments ?? []), as: UTF8.self)
                    try db.execute(sql: "INSERT INTO sidecar (path, size, mtime_ns, caption, segments) VALUES (?, ?, ?, ?, ?)",
                                   arguments: [video, stamp.size, stamp.mtimeNs, document?.caption, segments])
                    if let document {
                        try db.execute(sql: "INSERT INTO sidecar_text (path, text) VALUES (?, ?)", arguments: [video, document.text])
                    }
                }
                return read
            }
        } catch {
            throw .index(path: location, reason: "\(error)")
        }
    }

    private func remove(_ path: String, _ db: Database) throws {
        try db.execute(sql: "DELETE FROM sidecar WHERE path = ?", arguments: [path])
        try db.execute(sql: "DELETE FROM sidecar_text WHERE path = ?", arguments: [path])
    }

    /// The videos whose searchable text holds every word of `query` (a word also matches as a
    /// prefix and, through the Porter stemmer, in its other forms), best first by BM25.
    public func search(_ query: String, limit: Int = 20) throws(SearchError) -> [SearchHit] {
        let words = SearchDocument.words(of: query)
        guard !words.isEmpty else { throw .emptyQuery(query) }
        let match = words.map { "\"\($0)\"*" }.joined(separator: " ")
        do {
            return try database.read { db in
                try Row.fetchAll(db, sql: """
                    SELECT t.path AS path, bm25(sidecar_text) AS score, s.caption AS caption, s.segments AS segments
                    FROM sidecar_text t JOIN sidecar s ON s.path = t.path
                    WHERE sidecar_text MATCH ? ORDER BY score LIMIT ?
                    """, arguments: [match, limit]).map { row in
                    let segments = (try? JSONDecoder().decode([SearchHit.Segment].self, from: Data((row["segments"] as String).utf8))) ?? []
                    return SearchHit(path: row["path"], rank: -(row["score"] as Double), caption: row["caption"],
                                     segments: SearchDocument.matchingSegments(segments, query: query))
                }
            }
        } catch {
            throw .index(path: location, reason: "\(error)")
        }
    }
}
