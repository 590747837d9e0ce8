import Foundation

/// A labelled evaluation set in the layout `Training/make_dataset.py` writes
/// (Models/eval): `labels.jsonl`, one clip per line with its video file
/// (relative to the set), caption and questions, and optionally
/// `fewshot.jsonl`, the few-shot episodes over those clips.
public struct EvaluationSet: Sendable {
    public struct Question: Codable, Sendable {
        public var question: String
        public var answer: String
        public var type: String
    }

    public struct Clip: Codable, Sendable {
        public var id: String
        /// The video, relative to the set's directory.
        public var file: String
        public var caption: String
        /// Every applicable question.
        public var qa: [Question]
        /// The questions that count for the QA score (yes/no answers balanced).
        public var qaBalanced: [String]

        enum CodingKeys: String, CodingKey {
            case id, file, caption, qa
            case qaBalanced = "qa_balanced"
        }
    }

    public struct Episode: Codable, Sendable {
        public struct Item: Codable, Sendable {
            public var clip: String
            public var answer: String
        }
        public var id: String
        /// "answer": the task is given only by the support answers; "question": Question-form items.
        public var form: String
        public var task: String
        /// Number of support items.
        public var k: Int
        public var support: [Item]
        public var query: Item
        /// The full prompt, one `<image>` per support item and one for the query.
        public var prompt: String
    }

    public let directory: URL
    public let clips: [Clip]
    public let episodes: [Episode]

    public init(directory: URL) throws(EvaluationError) {
        self.directory = directory
        let labels = directory.appendingPathComponent("labels.jsonl")
        clips = try Self.readLines(labels, as: Clip.self)
        guard !clips.isEmpty else { throw .emptySet(path: labels.path) }
        let fewshot = directory.appendingPathComponent("fewshot.jsonl")
        episodes = FileManager.default.fileExists(atPath: fewshot.path) ? try Self.readLines(fewshot, as: Episode.self) : []
        let ids = Set(clips.map(\.id))
        for (line, episode) in episodes.enumerated() {
            for item in episode.support + [episode.query] where !ids.contains(item.clip) {
                throw .unknownClip(path: fewshot.path, line: line + 1, clip: item.clip)
            }
            let markers = episode.prompt.components(separatedBy: "<image>").count - 1
            guard markers == episode.k + 1, episode.support.count == episode.k else {
                throw .badLine(path: fewshot.path, line: line + 1,
                               reason: "episode \(episode.id) has k = \(episode.k), \(episode.support.count) support item(s) and \(markers) <image> marker(s)")
            }
        }
    }

    /// The clip's video file.
    public func url(of clip: Clip) -> URL { directory.appendingPathComponent(clip.file) }

    private static func readLines<T: Decodable>(_ url: URL, as type: T.Type) throws(EvaluationError) -> [T] {
        let text: String
        do { text = try String(contentsOf: url, encoding: .utf8) } catch {
            throw .unreadable(path: url.path, reason: error.localizedDescription)
        }
        var out: [T] = []
        let decoder = JSONDecoder()
        for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            guard !line.trimmingCharacters(in: .whitespaces).isEmpty else { continue }
            do { out.append(try decoder.decode(T.self, from: Data(line.utf8))) } catch {
                throw .badLine(path: url.path, line: number + 1, reason: Self.describe(error))
            }
        }
        return out
    }

    private static func describe(_ error: any Error) -> String {
        switch error as? DecodingError {
        case let .keyNotFound(key, _)?: "missing field \"\(key.stringValue)\""
        case let .typeMismatch(_, context)?, let .valueNotFound(_, context)?, let .dataCorrupted(context)?:
            "\(context.codingPath.map(\.stringValue).joined(separator: ".")): \(context.debugDescription)"
        default: error.localizedDescription
        }
    }
}
