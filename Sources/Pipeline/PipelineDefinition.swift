import Foundation
import Generation

/// What to compute for each video: the model, how frames are sampled, how
/// answers are decoded, and the tasks. Parsed from `Pipelines/*.yaml` by
/// `PipelineLoader`, which validates every field.
public struct PipelineDefinition: Sendable, Equatable, Codable {
    public var name: String
    /// "default" (the shipped model) or a model directory.
    public var model: String
    public var sampling: Sampling
    public var decoding: Decoding
    public var tasks: [PipelineTask]
    /// What to do with a video that looks unlike the model's training footage (docs/MODEL.md,
    /// "In-domain score"): keep the answers silently, keep them with a warning (default), or skip them.
    public var outOfDomain: OutOfDomain = .warn

    public enum OutOfDomain: String, Sendable, Equatable, Codable {
        case answer, warn, skip
    }
    /// SHA-256 of the file's bytes, hex: identifies this exact pipeline in sidecars.
    public var contentHash: String
    /// Where the file is; relative example paths are resolved against its directory.
    public var path: String

    public struct Sampling: Sendable, Equatable, Codable {
        public var fps: Double = 1
        /// Most frames per video (spread over the whole duration); nil: the model's default.
        public var maxFrames: Int?
        /// The line of `max_frames` in the file, for errors found once the model is known.
        public var maxFramesLine: Int?
        /// Caption each segment of this many seconds (long videos); nil: one caption.
        public var segmentSeconds: Double?
        /// How the sampled frames reach the model.
        public var media: Media = .video

        public enum Media: String, Sendable, Equatable, Codable {
            /// All frames as one media item (one `<image>`), with the model's temporal embeddings when it has them.
            case video
            /// Each frame its own `<image>`, as users of released OpenFlamingo checkpoints (no temporal
            /// embeddings) do; text then attends to the last frame only (only_attend_immediate_media).
            case frames
        }
    }

    /// Unset keys take `DecodingDefaults` (what the CLI uses too).
    public struct Decoding: Sendable, Equatable, Codable {
        /// 1: greedy.
        public var beams: Int = DecodingDefaults.beams
        public var maxTokens: Int = DecodingDefaults.maxNewTokens
        public var lengthPenalty: Double = DecodingDefaults.lengthPenalty
    }
}

/// One media file with the text that belongs to it, for few-shot prompts.
public struct FewShotExample: Sendable, Equatable, Codable {
    /// Absolute path (resolved against the pipeline file's directory).
    public var media: String
    /// The caption, or the answer for question examples.
    public var text: String
    /// For question examples: the question.
    public var question: String?
}

public enum PipelineTask: Sendable, Equatable, Codable {
    /// `prompt` is the text after `<image>` ("Caption:"); `examples` come first.
    case caption(prompt: String, examples: [FewShotExample])
    /// `template` contains `{question}` ("Question: {question} Short answer:").
    case qa(questions: [String], template: String, examples: [FewShotExample])
    /// Closed-ended: each option scored by log-likelihood.
    case classify(name: String, question: String, options: [String], template: String)
    /// A raw interleaved prompt: one `<image>` per example media file, then one
    /// more for the video itself, which must be the last.
    case prompt(name: String, text: String, media: [String], maxTokens: Int?)

    public var kind: String {
        switch self {
        case .caption: "caption"
        case .qa: "qa"
        case .classify: "classify"
        case .prompt: "prompt"
        }
    }
}
