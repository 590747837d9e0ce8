import Foundation

/// The model directory's `config.json`: vision encoder, Perceiver Resampler,
/// gated cross-attention and language model hyper-parameters, special token
/// ids and preprocessing. Validated right after decoding.
public struct FlamingoConfiguration: Codable, Sendable, Equatable {
    public var format: String
    public var formatVersion: Int
    public var vision: Vision
    public var resampler: Resampler
    public var crossAttention: CrossAttention
    public var languageModel: LanguageModel
    public var specialTokens: SpecialTokens
    public var preprocessing: Preprocessing
    /// How the weights were quantized (`flamingo quantize`); nil: not quantized.
    public var quantization: Quantization?

    /// `{"method": "int8_per_row"}`: every linear layer's weight whose size is a multiple of 8
    /// is int8 with one float32 scale per output row (docs/QUANTIZATION.md).
    public struct Quantization: Codable, Sendable, Equatable {
        public var method: String

        public init(method: String) { self.method = method }
    }

    /// open_clip VisionTransformer (`vision_encoder.*`).
    public struct Vision: Codable, Sendable, Equatable {
        public var imageSize: Int
        public var patchSize: Int
        public var width: Int
        public var layers: Int
        public var heads: Int
        public var mlpRatio: Double
        /// "quick_gelu" (OpenAI CLIP) or "gelu" (exact erf).
        public var activation: String
        public var layerNormEps: Float
        /// Apply `ln_post` to the tokens (open_clip >= 2.23 behaviour); false for the released checkpoints.
        public var tokensAfterLnPost: Bool

        enum CodingKeys: String, CodingKey {
            case imageSize = "image_size", patchSize = "patch_size", width, layers, heads
            case mlpRatio = "mlp_ratio", activation, layerNormEps = "layer_norm_eps"
            case tokensAfterLnPost = "tokens_after_ln_post"
        }

        public var grid: Int { imageSize / patchSize }
        public var patches: Int { grid * grid }
        public var mlpWidth: Int { Int((Double(width) * mlpRatio).rounded()) }
    }

    /// OpenFlamingo PerceiverResampler (`perceiver.*`); its width is the vision width.
    public struct Resampler: Codable, Sendable, Equatable {
        public var depth: Int
        public var heads: Int
        public var dimHead: Int
        public var numLatents: Int
        public var ffMult: Int
        /// Learned temporal embeddings `frame_embs` (max_num_frames, D); nil: none.
        public var maxNumFrames: Int?
        /// `media_time_embs` (max_num_media, 1, D); nil: none.
        public var maxNumMedia: Int?

        enum CodingKeys: String, CodingKey {
            case depth, heads, dimHead = "dim_head", numLatents = "num_latents", ffMult = "ff_mult"
            case maxNumFrames = "max_num_frames", maxNumMedia = "max_num_media"
        }
    }

    /// GatedCrossAttentionBlock placement and size.
    public struct CrossAttention: Codable, Sendable, Equatable {
        /// A block sits before LM block i when (i + 1) % everyNLayers == 0.
        public var everyNLayers: Int
        public var heads: Int
        public var dimHead: Int
        public var ffMult: Int
        public var onlyAttendImmediateMedia: Bool

        enum CodingKeys: String, CodingKey {
            case everyNLayers = "every_n_layers", heads, dimHead = "dim_head", ffMult = "ff_mult"
            case onlyAttendImmediateMedia = "only_attend_immediate_media"
        }
    }

    public struct LanguageModel: Codable, Sendable, Equatable {
        /// "mosaic_gpt" (MPT-1B), "mpt" (MPT-7B, llm-foundry names) or "gpt_neox" (RedPajama-INCITE).
        public var architecture: String
        /// `architecture` as the family (validated on load: a config that loaded has a known one).
        public var family: LanguageModelArchitecture { LanguageModelArchitecture(rawValue: architecture) ?? .mosaicGPT }
        public var vocabSize: Int
        public var dModel: Int
        public var nHeads: Int
        public var nLayers: Int
        public var expansionRatio: Int
        public var maxSeqLen: Int
        public var alibi: Bool
        public var alibiBiasMax: Double
        public var attnQkLn: Bool
        public var noBias: Bool
        public var layerNormEps: Float
        public var tieWordEmbeddings: Bool
        /// gpt_neox: fraction of each head's dims that get rotary embeddings, their base, and the residual form.
        public var rotaryPct: Double?
        public var rotaryEmbBase: Double?
        public var useParallelResidual: Bool?

        enum CodingKeys: String, CodingKey {
            case architecture, vocabSize = "vocab_size", dModel = "d_model", nHeads = "n_heads", nLayers = "n_layers"
            case expansionRatio = "expansion_ratio", maxSeqLen = "max_seq_len", alibi, alibiBiasMax = "alibi_bias_max"
            case attnQkLn = "attn_qk_ln", noBias = "no_bias", layerNormEps = "layer_norm_eps"
            case tieWordEmbeddings = "tie_word_embeddings"
            case rotaryPct = "rotary_pct", rotaryEmbBase = "rotary_emb_base", useParallelResidual = "use_parallel_residual"
        }

        public var headDim: Int { dModel / nHeads }
    }

    public struct SpecialTokens: Codable, Sendable, Equatable {
        /// `<image>`.
        public var media: Int
        /// `<|endofchunk|>`: ends the text of a media item; the generation stop token.
        public var endOfChunk: Int
        public var pad: Int
        public var eos: Int

        enum CodingKeys: String, CodingKey {
            case media, endOfChunk = "end_of_chunk", pad, eos
        }
    }

    public struct Preprocessing: Codable, Sendable, Equatable {
        public var imageSize: Int
        public var mean: [Float]
        public var std: [Float]

        enum CodingKeys: String, CodingKey {
            case imageSize = "image_size", mean, std
        }
    }

    enum CodingKeys: String, CodingKey {
        case format, formatVersion = "format_version", vision, resampler, crossAttention = "cross_attention"
        case languageModel = "language_model", specialTokens = "special_tokens", preprocessing, quantization
    }

    public static func load(from url: URL) throws(ModelError) -> FlamingoConfiguration {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw .invalidConfiguration(path: url.path, reason: "cannot be read: \(error.localizedDescription)")
        }
        let config: FlamingoConfiguration
        do {
            config = try JSONDecoder().decode(FlamingoConfiguration.self, from: data)
        } catch let DecodingError.keyNotFound(key, context) {
            throw .invalidConfiguration(path: url.path, reason: "missing key '\((context.codingPath + [key]).map(\.stringValue).joined(separator: "."))'")
        } catch let DecodingError.typeMismatch(_, context), let DecodingError.valueNotFound(_, context) {
            throw .invalidConfiguration(path: url.path, reason: "bad value at '\(context.codingPath.map(\.stringValue).joined(separator: "."))'")
        } catch {
            throw .invalidConfiguration(path: url.path, reason: "not valid JSON")
        }
        do { try config.validate() } catch let ModelError.invalidConfiguration(_, reason) {
            throw .invalidConfiguration(path: url.path, reason: reason)
        } catch { throw error }
        return config
    }

    public func validate() throws(ModelError) {
        func check(_ ok: Bool, _ reason: String) throws(ModelError) {
            if !ok { throw .invalidConfiguration(path: "config.json", reason: reason) }
        }
        try check(format == "flamingo-swift", "format must be \"flamingo-swift\", got \"\(format)\"")
        try check(formatVersion == 1, "format_version \(formatVersion) is not supported (1 is)")
        try check(vision.patchSize > 0 && vision.imageSize % vision.patchSize == 0,
                  "vision.image_size \(vision.imageSize) must be a multiple of vision.patch_size \(vision.patchSize)")
        try check(vision.width > 0 && vision.heads > 0 && vision.width % vision.heads == 0,
                  "vision.width \(vision.width) must be divisible by vision.heads \(vision.heads)")
        try check(vision.layers >= 0 && vision.mlpRatio > 0, "vision.layers and vision.mlp_ratio must be positive")
        try check(["quick_gelu", "gelu"].contains(vision.activation), "vision.activation must be quick_gelu or gelu, got \(vision.activation)")
        try check(resampler.depth >= 1 && resampler.heads >= 1 && resampler.dimHead >= 1 && resampler.numLatents >= 1 && resampler.ffMult >= 1,
                  "resampler sizes must be positive")
        try check((resampler.maxNumFrames ?? 1) >= 1 && (resampler.maxNumMedia ?? 1) >= 1, "resampler max_num_frames/max_num_media must be >= 1 or null")
        try check(crossAttention.everyNLayers >= 1 && crossAttention.heads >= 1 && crossAttention.dimHead >= 1 && crossAttention.ffMult >= 1,
                  "cross_attention sizes must be positive")
        let lm = languageModel
        try check(LanguageModelArchitecture(rawValue: lm.architecture) != nil,
                  "language_model.architecture '\(lm.architecture)' is not supported (\(LanguageModelArchitecture.allCases.map(\.rawValue).joined(separator: ", ")) are)")
        try check(languageModel.dModel > 0 && languageModel.nHeads > 0 && languageModel.dModel % languageModel.nHeads == 0,
                  "language_model.d_model must be divisible by n_heads")
        try check(languageModel.nLayers >= 1 && languageModel.vocabSize >= 1 && languageModel.maxSeqLen >= 1 && languageModel.expansionRatio >= 1,
                  "language_model sizes must be positive")
        if lm.family == .gptNeoX {
            try check(!lm.alibi && !lm.attnQkLn && !lm.noBias, "gpt_neox uses rotary embeddings and biases: alibi, attn_qk_ln and no_bias must be false")
            try check((0...1).contains(lm.rotaryPct ?? 1) && (lm.rotaryEmbBase ?? 10000) > 0, "rotary_pct must be in [0, 1] and rotary_emb_base positive")
            try check(Int(Double(lm.headDim) * (lm.rotaryPct ?? 1)) % 2 == 0, "rotary dims per head must be even")
        } else {
            try check(lm.tieWordEmbeddings, "\(lm.architecture) ties its output head to wte; tie_word_embeddings must be true")
            try check(lm.family == .mosaicGPT || !lm.attnQkLn, "mpt (MPT-7B) has no QK LayerNorm; attn_qk_ln must be false")
        }
        for (name, id) in [("media", specialTokens.media), ("end_of_chunk", specialTokens.endOfChunk),
                           ("pad", specialTokens.pad), ("eos", specialTokens.eos)] {
            try check((0..<languageModel.vocabSize).contains(id), "special_tokens.\(name) \(id) is outside the vocabulary (\(languageModel.vocabSize))")
        }
        try check(preprocessing.imageSize == vision.imageSize,
                  "preprocessing.image_size \(preprocessing.imageSize) must equal vision.image_size \(vision.imageSize)")
        try check(quantization.map { ["int8_per_row", "q4_block32"].contains($0.method) } ?? true,
                  "quantization.method '\(quantization?.method ?? "")' is not supported (int8_per_row and q4_block32 are)")
        try check(preprocessing.mean.count == 3 && preprocessing.std.count == 3 && preprocessing.std.allSatisfy { $0 > 0 },
                  "preprocessing needs 3 means and 3 positive stds")
    }

    /// Whether LM block i has a gated cross-attention block before it.
    public func hasCrossAttention(beforeLayer i: Int) -> Bool { (i + 1) % crossAttention.everyNLayers == 0 }
}
