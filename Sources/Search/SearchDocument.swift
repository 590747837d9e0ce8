import Foundation
import Pipeline

/// What of a sidecar is searchable: its caption, its segments' captions, its answers (with their
/// questions), its classifications and its named prompts' outputs, as one text. Both indexes (SQLite
/// FTS5 for one machine, PostgreSQL's tsvector for a cluster) index this same text; they differ in
/// one respect: PostgreSQL's English configuration drops stop words ("the", "and") from queries,
/// FTS5 matches them like any word.
public struct SearchDocument: Sendable, Equatable {
    public var caption: String?
    public var segments: [SearchHit.Segment]
    public var text: String

    public init(_ sidecar: Sidecar) {
        caption = sidecar.caption?.text
        segments = (sidecar.segments ?? []).map { .init(startS: $0.startS, endS: $0.endS, caption: $0.caption.text) }
        var parts: [String] = []
        if let caption { parts.append(caption) }
        parts += segments.map(\.caption)
        for answer in sidecar.answers ?? [] { parts.append("\(answer.question) \(answer.answer)") }
        for classification in sidecar.classifications ?? [] { parts.append("\(classification.name) \(classification.answer)") }
        for prompt in sidecar.prompts ?? [] { parts.append(prompt.text) }
        text = parts.joined(separator: "\n")
    }

    /// The query's words, lowercased, letters and digits only (what the segment filter matches on).
    public static func words(of query: String) -> [String] {
        query.lowercased().split { !$0.isLetter && !$0.isNumber }.map(String.init).filter { !$0.isEmpty }
    }

    /// The segments whose caption holds a word of the query (a word's prefix matches too: "mov"
    /// finds "moving", "squares" finds "square"); all segments' times would say nothing about where the match is.
    public static func matchingSegments(_ segments: [SearchHit.Segment], query: String) -> [SearchHit.Segment] {
        let wanted = words(of: query)
        guard !wanted.isEmpty else { return [] }
        return segments.filter { segment in
            let have = words(of: segment.caption)
            return wanted.contains { word in have.contains { $0.hasPrefix(word) || (word.hasPrefix($0) && $0.count >= 4) } }
        }
    }
}
