import ArgumentParser
import Cluster
import Foundation
import Search

/// `flamingo search`: the videos whose captions and answers hold the query's words.
struct SearchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "search",
        abstract: "Find videos by the words of their captions and answers.",
        discussion: """
            With --database (or $FLAMINGO_DATABASE_URL) and no --directory: the cluster's results table \
            (PostgreSQL full text). Otherwise the sidecars under --directory (default: the current \
            directory), through an embedded SQLite FTS5 index kept in DIR/.flamingo-search.sqlite and \
            brought up to date on each search. Every word must match; a word matches as a prefix too, \
            and in its other forms ("squares" finds "square"). Prints one video per line, best first: \
            its path, the segments (start-end, seconds) whose captions match, and its caption.
            """)

    @Argument(help: "The words to look for.")
    var query: [String]

    @Option(help: ArgumentHelp("The cluster's database (default: $FLAMINGO_DATABASE_URL).", valueName: "postgres://USER@HOST/DB"))
    var database: String?

    @Option(help: "Search the sidecars under this directory instead of a database.")
    var directory: String?

    @Option(help: "Where the directory's index is kept (default: DIR/.flamingo-search.sqlite, in memory if DIR is read-only).")
    var index: String?

    @Option(help: "Most videos listed.")
    var limit: Int = 20

    @Flag(help: "Print JSON (an array of {path, rank, caption, segments}).")
    var json = false

    func validate() throws {
        guard limit >= 1 else { throw ValidationError("--limit must be at least 1") }
    }

    func run() async throws {
        let text = query.joined(separator: " ")
        let limit = self.limit
        let hits: [SearchHit]
        if directory == nil, let url = DatabaseSession.url(database) {
            hits = try await DatabaseSession.with(url) { store in try await store.search(text, limit: limit) }
        } else {
            let directory = self.directory ?? FileManager.default.currentDirectoryPath
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
                throw CLIError("\(directory): is not a directory")
            }
            hits = try CLIError.reporting {
                let sidecars = try SidecarIndex(directory: directory, indexPath: index)
                try sidecars.refresh()
                return try sidecars.search(text, limit: limit)
            }
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: try encoder.encode(hits), as: UTF8.self))
            return
        }
        if hits.isEmpty { FileHandle.standardError.write(Data("no video matches \"\(text)\"\n".utf8)) }
        for hit in hits {
            let times = hit.segments.map { String(format: "%.1f-%.1f", $0.startS, $0.endS) }.joined(separator: ",")
            print([hit.path, times.isEmpty ? nil : "[\(times)]", hit.caption].compactMap { $0 }.joined(separator: "\t"))
        }
    }
}
