import Foundation

/// One video found by `flamingo search`: where it is, how well it matched, its caption and the
/// segments (start and end in seconds) whose captions contain a word of the query.
public struct SearchHit: Codable, Sendable, Equatable {
    /// The video's path: share-relative (`share:path`) from PostgreSQL, absolute from a directory index.
    public var path: String
    /// Higher is better (PostgreSQL's ts_rank_cd, or SQLite FTS5's bm25 negated).
    public var rank: Double
    public var caption: String?
    public var segments: [Segment]

    public struct Segment: Codable, Sendable, Equatable {
        public var startS: Double
        public var endS: Double
        public var caption: String
        enum CodingKeys: String, CodingKey { case startS = "start_s", endS = "end_s", caption }

        public init(startS: Double, endS: Double, caption: String) {
            self.startS = startS
            self.endS = endS
            self.caption = caption
        }
    }

    public init(path: String, rank: Double, caption: String?, segments: [Segment]) {
        self.path = path
        self.rank = rank
        self.caption = caption
        self.segments = segments
    }
}
