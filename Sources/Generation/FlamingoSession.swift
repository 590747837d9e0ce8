import Foundation
import Model
import Tokenizer
import VideoIO

/// A loaded model directory (config.json, model.safetensors, tokenizer.json)
/// ready to answer interleaved prompts: text with `<image>` markers plus an
/// ordered list of media (images or videos), so few-shot prompts with several
/// videos work. Each media item is encoded once (vision encoder, resampler,
/// cross-attention keys/values) and reused for every generated token.
public final class FlamingoSession: Sendable {
    public let directory: URL
    public let model: FlamingoModel
    public let tokenizer: BPETokenizer

    public static let mediaMarker = "<image>"
    public static let endOfChunk = "<|endofchunk|>"

    public init(directory: URL) throws {
        self.directory = directory
        model = try FlamingoModel.load(directory: directory)
        let tokenizerURL = directory.appendingPathComponent("tokenizer.json")
        do {
            tokenizer = try BPETokenizer(contentsOf: tokenizerURL)
        } catch {
            throw SessionError.tokenizer(path: tokenizerURL.path, reason: error.localizedDescription)
        }
        let special = model.configuration.specialTokens
        for (token, id) in [(Self.mediaMarker, special.media), (Self.endOfChunk, special.endOfChunk)] {
            let found = tokenizer.id(forToken: token)
            guard found == id else { throw SessionError.specialTokenMismatch(token: token, tokenizerID: found, configID: id) }
        }
    }

    /// Frames per media item: the resampler's `frame_embs` rows when it has
    /// learned temporal embeddings, else 8.
    public var defaultMaxFrames: Int { model.resampler.maxFrames ?? 8 }

    /// How frames are prepared for the vision encoder (size, mean, std), from config.json.
    public var preprocessing: FlamingoConfiguration.Preprocessing { model.configuration.preprocessing }

    /// The model card's one-line domain (what the model knows), if it has a card.
    public var domain: String? { model.card?.domain }

    /// Frames per media item the resampler has temporal embeddings for; nil: any number.
    public var maxFramesPerItem: Int? { model.resampler.maxFrames }

    /// Visual tokens of one media item from normalized pixels, (frames, 3, size, size) -> (latents,
    /// width), with its in-domain check (nil when the model has no statistics).
    public func visualTokensChecked(pixels: [Float], frames: Int) throws -> (tokens: [Float], domain: DomainCheck?) {
        let (latents, check) = try model.encodeMediaChecked(pixels: pixels, frames: frames)
        return (latents, check)
    }

    /// Visual tokens of one media item, without the in-domain check.
    public func visualTokens(pixels: [Float], frames: Int) throws -> [Float] {
        try model.encodeMedia(pixels: pixels, frames: frames)
    }

    /// The cross-attention memory of media items' visual tokens, in prompt order.
    public func memory(visualTokens: [[Float]]) -> FlamingoModel.MediaMemory { model.mediaMemory(visualTokens) }

    /// Reads an image or video through the hardened reader at 1 frame per
    /// second, at most `maxFrames` frames spread over the whole video.
    public func loadMedia(path: String, maxFrames: Int? = nil, limits: VideoReaderLimits = VideoReaderLimits()) throws -> MediaItem {
        let p = model.configuration.preprocessing
        let video = try VideoReader(path: path, limits: limits)
            .sample(SamplingOptions(fps: 1, maxFrames: maxFrames ?? defaultMaxFrames, size: p.imageSize))
        return MediaItem(path: path, pixels: video.normalizedPixels(PreprocessingConfig(mean: p.mean, std: p.std)),
                         frames: video.frames, probe: video.probe, warnings: video.warnings)
    }

    /// Visual tokens of each item, then the cross-attention memory for a prompt.
    public func encode(_ media: [MediaItem], zeroTemporalEmbeddings: Bool = false) throws -> FlamingoModel.MediaMemory {
        try encodeChecked(media, zeroTemporalEmbeddings: zeroTemporalEmbeddings).memory
    }

    /// `encode`, with each item's in-domain check (nil entries when the model has no statistics).
    public func encodeChecked(_ media: [MediaItem], zeroTemporalEmbeddings: Bool = false) throws
        -> (memory: FlamingoModel.MediaMemory, domain: [DomainCheck?]) {
        let encoded = try media.enumerated().map { index, item in
            try model.encodeMediaChecked(pixels: item.pixels, frames: item.frames.count, mediaIndex: index,
                                         zeroTemporalEmbeddings: zeroTemporalEmbeddings)
        }
        return (model.mediaMemory(encoded.map(\.latents)), encoded.map(\.domain))
    }

    /// The one line a command prints on stderr when a media item looks unlike the model's training
    /// footage; nil when it is in domain or the model has no statistics.
    public func outOfDomainNotice(_ path: String, _ check: DomainCheck?) -> String? {
        guard let check, !check.inDomain else { return nil }
        let domain = model.card?.domain ?? "the footage it was trained for"
        return String(format: "warning: %@ looks unlike what this model was trained for (in-domain score %.1f, threshold %.1f): "
                      + "its answers are likely wrong. The model knows: %@. Real footage needs another model (README, \"Real footage\").",
                      path as NSString, check.score, check.threshold, domain as NSString)
    }

    /// Token ids of a prompt, checking it has one `<image>` per media item.
    public func tokens(for prompt: String, mediaCount: Int) throws -> [Int] {
        let ids = tokenizer.encode(prompt)
        guard !ids.isEmpty else { throw SessionError.emptyPrompt }
        let markers = ids.filter { $0 == model.configuration.specialTokens.media }.count
        guard markers == mediaCount else { throw SessionError.mediaCountMismatch(markers: markers, media: mediaCount) }
        return ids
    }

    public struct Continuation: Sendable, Codable {
        /// The generated text, without the closing `<|endofchunk|>`.
        public var text: String
        /// Summed log-probability of the generated tokens (the stop token included when produced).
        public var logprob: Double
        public var tokens: [Int]
    }

    /// Open-ended answer: greedy or beam search after `prompt`.
    public func generate(prompt: String, media: [MediaItem], options: GenerationOptions,
                         memory: FlamingoModel.MediaMemory? = nil) throws -> Continuation {
        try generate(prompt: prompt, memory: memory ?? encode(media), options: options)
    }

    /// Open-ended answer with the media already encoded (`memory.count` items, one per `<image>`).
    public func generate(prompt: String, memory: FlamingoModel.MediaMemory, options: GenerationOptions) throws -> Continuation {
        let ids = try tokens(for: prompt, mediaCount: memory.count)
        let decoder = Decoder(model: model)
        let generated = try decoder.generate(prompt: ids, media: memory, options: options)
        let logprob = generated.isEmpty ? 0 : try decoder.score(prompt: ids, options: [generated], media: memory)[0]
        let stop = model.configuration.specialTokens.endOfChunk
        let text = tokenizer.decode(generated.last == stop ? Array(generated.dropLast()) : generated, skipSpecialTokens: true)
        return Continuation(text: text.trimmingCharacters(in: .whitespaces), logprob: logprob, tokens: generated)
    }

    /// Closed-ended answer: the log-probability of each option's tokens after `prompt`.
    public func score(prompt: String, options: [String], media: [MediaItem],
                      memory: FlamingoModel.MediaMemory? = nil) throws -> [Double] {
        try score(prompt: prompt, options: options, memory: memory ?? encode(media))
    }

    /// Closed-ended answer with the media already encoded.
    public func score(prompt: String, options: [String], memory: FlamingoModel.MediaMemory) throws -> [Double] {
        let ids = try tokens(for: prompt, mediaCount: memory.count)
        return try Decoder(model: model).score(prompt: ids, options: options.map { tokenizer.encode($0) }, media: memory)
    }
}
