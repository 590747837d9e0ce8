import Foundation
import Model
import Weights

/// Turns what a user downloads for a released OpenFlamingo model into one
/// model directory in the engine's format (OPENFLAMINGO.md §10):
/// - `checkpoint`: OpenFlamingo's `checkpoint.pt` (perceiver, gated
///   cross-attention, resized embeddings; plain or under `model_state_dict`,
///   with or without `module.`),
/// - `vision`: an open_clip ViT state dict or a Hugging Face CLIP directory,
/// - `languageModel`: the Hugging Face directory of the LM (config.json,
///   weights, tokenizer.json).
/// The tokenizer gets `<|endofchunk|>`, `<image>` (and `<PAD>` when it has no
/// pad token) as OpenFlamingo's factory adds them, and their ids are checked
/// against the checkpoint's embedding rows. The result is loaded back with the
/// engine's strict loader before the call returns.
public struct OpenFlamingoConverter {
    public var checkpoint: String
    public var vision: String
    public var languageModel: String
    public var dtype: SafetensorsWriter.DType = .f32
    /// For open_clip state dicts (which carry no config): OpenAI's CLIP uses QuickGELU.
    public var visionActivation = "quick_gelu"
    /// Head widths where only shapes are known (open_clip ViTs, OpenFlamingo's perceiver and cross-attention).
    public var visionHeadWidth = 64
    public var dimHead = 64
    public var maxSeqLen: Int?

    public init(checkpoint: String, vision: String, languageModel: String) {
        self.checkpoint = checkpoint
        self.vision = vision
        self.languageModel = languageModel
    }

    public struct Summary: Sendable {
        public var tensors: Int
        public var parameters: Int
        public var addedTokens: [String: Int]
    }

    public func convert(to out: URL) throws -> Summary {
        let lmDir = URL(fileURLWithPath: languageModel)
        let lmConfig = try LanguageModelConfig(url: lmDir.appendingPathComponent("config.json"))
        let tokenizer = try TokenizerFile(directory: lmDir)
        let vis = try VisionCheckpoint(path: vision, activation: visionActivation, headWidth: visionHeadWidth)
        let lm = try TensorSource(path: languageModel)
        let ck = try TensorSource(path: checkpoint)

        var tensors: [String: TensorSource.Item] = [:]
        for (key, t) in vis.tensors { tensors["vision_encoder.\(key)"] = .init(shape: t.shape, load: t.load) }

        // LM: transformer.blocks.{i}.X -> lang_encoder.transformer.blocks.{i}.decoder_layer.X; others prefixed.
        for (key, item) in lm.items {
            let parts = key.split(separator: ".", omittingEmptySubsequences: false)
            if parts.count > 3, parts[0] == "transformer", parts[1] == "blocks" {
                tensors["lang_encoder.transformer.blocks.\(parts[2]).decoder_layer.\(parts[3...].joined(separator: "."))"] = item
            } else if ["transformer.wte.weight", "transformer.ln_f.weight", "transformer.ln_f.bias"].contains(key) {
                tensors["lang_encoder.\(key)"] = item
            } else if key.hasSuffix(".attn_bias") || key.hasSuffix("rotary_emb.inv_freq") || key == "lm_head.weight" {
                continue  // buffers; MosaicGPT ties its head to wte
            } else {
                throw ConversionError.unexpectedTensors(source: languageModel, keys: [key])
            }
        }
        // checkpoint.pt supersedes: perceiver, gated cross-attention, resized embeddings.
        var unexpected: [String] = []
        for (key, item) in ck.items {
            if key.hasPrefix("perceiver.") || key.contains(".gated_cross_attn_layer.") || key == "lang_encoder.transformer.wte.weight" {
                tensors[key] = item
            } else if key.hasPrefix("vision_encoder.") || key.contains(".decoder_layer.") || key.hasPrefix("lang_encoder.transformer.") {
                tensors[key] = item  // a full model state dict: these supersede the separate files
            } else {
                unexpected.append(key)
            }
        }
        guard unexpected.isEmpty else { throw ConversionError.unexpectedTensors(source: checkpoint, keys: unexpected.sorted()) }

        // Shapes that tie the pieces together.
        let d = lmConfig.dModel
        guard let latents = tensors["perceiver.latents"]?.shape, latents.count == 2 else {
            throw ConversionError.missingTensor(source: checkpoint, key: "perceiver.latents")
        }
        guard latents[1] == vis.width else {
            throw ConversionError.mismatch(key: "perceiver.latents", reason: "width \(latents[1]) does not match the vision encoder's \(vis.width) (\(vision))")
        }
        guard let wte = tensors["lang_encoder.transformer.wte.weight"]?.shape, wte.count == 2, wte[1] == d else {
            throw ConversionError.mismatch(key: "lang_encoder.transformer.wte.weight", reason: "expected (vocab, \(d))")
        }
        let added = try tokenizer.addFlamingoTokens()
        guard tokenizer.count == wte[0] else {
            throw ConversionError.mismatch(key: "lang_encoder.transformer.wte.weight",
                                           reason: "has \(wte[0]) rows but the tokenizer with <|endofchunk|>, <image> and pad has \(tokenizer.count) tokens")
        }
        var depth = 0
        while tensors["perceiver.layers.\(depth).0.to_q.weight"] != nil { depth += 1 }
        guard depth > 0, let toQ = tensors["perceiver.layers.0.0.to_q.weight"]?.shape, let ff = tensors["perceiver.layers.0.1.1.weight"]?.shape,
              toQ[0] % dimHead == 0 else {
            throw ConversionError.mismatch(key: "perceiver.layers.0.0.to_q.weight", reason: "missing, or not a multiple of \(dimHead) heads wide")
        }
        let crossLayers = (0..<lmConfig.nLayers).filter { tensors["lang_encoder.transformer.blocks.\($0).gated_cross_attn_layer.attn_gate"] != nil }
        guard let first = crossLayers.first else {
            throw ConversionError.missingTensor(source: checkpoint, key: "lang_encoder.transformer.blocks.*.gated_cross_attn_layer.attn_gate")
        }
        let every = first + 1
        guard crossLayers == (0..<lmConfig.nLayers).filter({ ($0 + 1) % every == 0 }) else {
            throw ConversionError.mismatch(key: "lang_encoder.transformer.blocks.*.gated_cross_attn_layer",
                                           reason: "cross-attention at layers \(crossLayers) is not every \(every)-th layer")
        }
        let xq = tensors["lang_encoder.transformer.blocks.\(first).gated_cross_attn_layer.attn.to_q.weight"]?.shape ?? []
        let xff = tensors["lang_encoder.transformer.blocks.\(first).gated_cross_attn_layer.ff.1.weight"]?.shape ?? []
        guard xq.count == 2, xq[0] % dimHead == 0, xff.count == 2 else {
            throw ConversionError.mismatch(key: "gated_cross_attn_layer.attn.to_q.weight", reason: "missing or not a multiple of \(dimHead) wide")
        }

        // config.json in the engine's schema (Model/FlamingoConfiguration), validated when loaded back.
        let config: [String: Any] = [
            "format": "flamingo-swift", "format_version": 1,
            "vision": ["image_size": vis.imageSize, "patch_size": vis.patchSize, "width": vis.width, "layers": vis.layers,
                       "heads": vis.heads, "mlp_ratio": vis.mlpRatio, "activation": vis.activation,
                       "layer_norm_eps": vis.layerNormEps, "tokens_after_ln_post": false],
            "resampler": ["depth": depth, "heads": toQ[0] / dimHead, "dim_head": dimHead, "num_latents": latents[0],
                          "ff_mult": ff[0] / latents[1],
                          "max_num_frames": tensors["perceiver.frame_embs"]?.shape.first ?? NSNull(),
                          "max_num_media": tensors["perceiver.media_time_embs"]?.shape.first ?? NSNull()],
            "cross_attention": ["every_n_layers": every, "heads": xq[0] / dimHead, "dim_head": dimHead, "ff_mult": xff[0] / d,
                                "only_attend_immediate_media": true],
            "language_model": ["architecture": "mosaic_gpt", "vocab_size": wte[0], "d_model": d, "n_heads": lmConfig.nHeads,
                               "n_layers": lmConfig.nLayers, "expansion_ratio": lmConfig.expansionRatio,
                               "max_seq_len": maxSeqLen ?? lmConfig.maxSeqLen, "alibi": lmConfig.alibi,
                               "alibi_bias_max": lmConfig.alibiBiasMax, "attn_qk_ln": lmConfig.attnQkLn, "no_bias": lmConfig.noBias,
                               "layer_norm_eps": lmConfig.layerNormEps, "tie_word_embeddings": true],
            "special_tokens": ["media": added.media, "end_of_chunk": added.endOfChunk, "pad": added.pad, "eos": tokenizer.eos ?? 0],
            "preprocessing": ["image_size": vis.imageSize, "mean": [0.48145466, 0.4578275, 0.40821073],
                              "std": [0.26862954, 0.26130258, 0.27577711]],
        ]

        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        var values: [String: SafetensorsWriter.Tensor] = [:]
        var parameters = 0
        for (key, item) in tensors {
            let v = try item.load()
            guard v.count == item.shape.reduce(1, *) else { throw ConversionError.mismatch(key: key, reason: "shape \(item.shape) but \(v.count) values") }
            values[key] = .init(shape: item.shape, values: v)
            parameters += v.count
        }
        try SafetensorsWriter.write(values, dtype: dtype, metadata: ["format": "pt", "converted_by": "flamingo convert"],
                                    to: out.appendingPathComponent("model.safetensors"))
        try JSONSerialization.data(withJSONObject: config, options: [.prettyPrinted, .sortedKeys])
            .write(to: out.appendingPathComponent("config.json"))
        try tokenizer.write(to: out.appendingPathComponent("tokenizer.json"))
        // The engine's strict loader names any missing, unknown or wrong-shaped tensor.
        _ = try FlamingoModel.load(directory: out)
        return Summary(tensors: values.count, parameters: parameters,
                       addedTokens: ["<|endofchunk|>": added.endOfChunk, "<image>": added.media, "pad": added.pad])
    }
}
