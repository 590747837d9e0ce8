import Foundation

/// `VIDEO.flamingo.json`: what a pipeline computed for one video, or why it
/// failed. Published as a JSON Schema in `Pipelines/sidecar.schema.json`.
public struct Sidecar: Codable, Sendable, Equatable {
    public static let currentSchemaVersion = 1
    public static let generatorName = "flamingo"

    public var schemaVersion: Int = Sidecar.currentSchemaVersion
    /// "flamingo": marks the file as ours (we never overwrite a file without it).
    public var generator: String = Sidecar.generatorName
    /// "ok" or "error".
    public var status: String
    public var video: Video
    public var model: Identity
    public var pipeline: Identity
    /// Sample times of the frames the model saw, seconds from the first frame.
    public var frames: [Double]?
    public var caption: Generated?
    public var segments: [Segment]?
    public var answers: [Answer]?
    public var classifications: [Classification]?
    public var prompts: [PromptResult]?
    public var warnings: [String]?
    /// The video's in-domain check (absent when the model has no statistics).
    public var domain: Domain?
    public var timings: Timings?
    public var error: Failure?
    /// ISO 8601, when the sidecar was written.
    public var createdAt: String

    public struct Video: Codable, Sendable, Equatable {
        /// The file name, relative to the sidecar's directory.
        public var file: String
        public var fingerprint: Fingerprint
        public var probe: Probe?
    }

    /// What identifies the exact bytes we processed; a change means redo.
    public struct Fingerprint: Codable, Sendable, Equatable, Hashable {
        public var size: Int64
        public var mtimeNs: Int64
        public var inode: UInt64

        enum CodingKeys: String, CodingKey { case size, mtimeNs = "mtime_ns", inode }

        public init(size: Int64, mtimeNs: Int64, inode: UInt64) {
            self.size = size
            self.mtimeNs = mtimeNs
            self.inode = inode
        }

        /// The file's fingerprint now (following no link), or nil if it cannot be read.
        public static func of(path: String) -> Fingerprint? {
            var st = stat()
            guard lstat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { return nil }
            return Fingerprint(size: Int64(st.st_size),
                               mtimeNs: Int64(st.st_mtim.tv_sec) * 1_000_000_000 + Int64(st.st_mtim.tv_nsec),
                               inode: UInt64(st.st_ino))
        }
    }

    public struct Probe: Codable, Sendable, Equatable {
        public var durationS: Double
        public var width: Int
        public var height: Int
        public var codec: String
        enum CodingKeys: String, CodingKey { case durationS = "duration_s", width, height, codec }
    }

    public struct Identity: Codable, Sendable, Equatable {
        public var name: String
        /// SHA-256 of the pipeline file, or of the model's config.json.
        public var hash: String
        /// The model's domain from its model card (models only; absent without a card).
        public var domain: String?

        public init(name: String, hash: String, domain: String? = nil) {
            self.name = name
            self.hash = hash
            self.domain = domain
        }
    }

    public struct Generated: Codable, Sendable, Equatable {
        public var text: String
        public var logprob: Double

        public init(text: String, logprob: Double) {
            self.text = text
            self.logprob = logprob
        }
    }

    public struct Segment: Codable, Sendable, Equatable {
        public var startS: Double
        public var endS: Double
        public var caption: Generated
        enum CodingKeys: String, CodingKey { case startS = "start_s", endS = "end_s", caption }
    }

    public struct Answer: Codable, Sendable, Equatable {
        public var question: String
        public var answer: String
        public var logprob: Double

        public init(question: String, answer: String, logprob: Double) {
            self.question = question
            self.answer = answer
            self.logprob = logprob
        }
    }

    public struct Classification: Codable, Sendable, Equatable {
        public var name: String
        public var question: String
        /// The option with the highest log-probability.
        public var answer: String
        public var scores: [OptionScore]
    }

    public struct OptionScore: Codable, Sendable, Equatable {
        public var option: String
        public var logprob: Double

        public init(option: String, logprob: Double) {
            self.option = option
            self.logprob = logprob
        }
    }

    public struct PromptResult: Codable, Sendable, Equatable {
        public var name: String
        public var text: String
        public var logprob: Double
    }

    public struct Timings: Codable, Sendable, Equatable {
        public var readS: Double
        public var encodeS: Double
        public var generateS: Double
        public var totalS: Double
        enum CodingKeys: String, CodingKey { case readS = "read_s", encodeS = "encode_s", generateS = "generate_s", totalS = "total_s" }
    }

    /// docs/MODEL.md, "In-domain score".
    public struct Domain: Codable, Sendable, Equatable {
        public var score: Double
        public var threshold: Double
        public var inDomain: Bool
        enum CodingKeys: String, CodingKey { case score, threshold, inDomain = "in_domain" }

        public init(score: Double, threshold: Double, inDomain: Bool) {
            self.score = score
            self.threshold = threshold
            self.inDomain = inDomain
        }
    }

    public struct Failure: Codable, Sendable, Equatable {
        public var code: String
        public var message: String
        public var attempts: Int
    }

    enum CodingKeys: String, CodingKey {
        case schemaVersion = "schema_version", generator, status, video, model, pipeline, frames, caption, segments
        case answers, classifications, prompts, warnings, domain, timings, error, createdAt = "created_at"
    }

    /// Whether this sidecar was made from a file of `fingerprint`'s size and mtime (not comparing the
    /// inode: a copy, another NFS client) by this pipeline and model.
    public func describes(_ fingerprint: Fingerprint, pipeline: Identity, model: Identity) -> Bool {
        video.fingerprint.size == fingerprint.size && video.fingerprint.mtimeNs == fingerprint.mtimeNs
            && self.pipeline == pipeline && self.model == model
    }

    /// `clip.mp4` -> `clip.mp4.flamingo.json`.
    public static func path(for video: String) -> String { video + ".flamingo.json" }
    /// `clip.mp4` -> `clip.mp4.flamingo.vtt`.
    public static func subtitlePath(for video: String) -> String { video + ".flamingo.vtt" }

    public func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(self)
    }
}
