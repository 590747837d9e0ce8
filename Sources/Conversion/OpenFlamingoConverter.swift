import Foundation
import Model
import Weights

/// Turns what a user downloads for a released OpenFlamingo model into one
/// model directory in the engine's format (docs/MODEL.md §Checkpoints, §Conversion):
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

    /// Non-parameter tensors the engine recomputes: causal masks, ALiBi biases, rotary frequencies.
    static func isBuffer(_ key: String) -> Bool {
        [".attention.bias", ".attention.masked_bias", "rotary_emb.inv_freq", ".attn_bias"].contains { key.hasSuffix($0) }
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

        // LM: <root>.<layers>.{i}.X -> lang_encoder.<root>.<layers>.{i}.decoder_layer.X; others prefixed.
        let layerPrefix = "\(lmConfig.root).\(lmConfig.layers)."
        let known = Set([lmConfig.inputEmbedding, lmConfig.finalNorm + ".weight", lmConfig.finalNorm + ".bias"] + [lmConfig.outputHead].compactMap { $0 })
        for (key, item) in lm.items {
            if key.hasPrefix(layerPrefix) {
                let rest = key.dropFirst(layerPrefix.count)
                guard let dot = rest.firstIndex(of: ".") else { throw ConversionError.unexpectedTensors(source: languageModel, keys: [key]) }
                if Self.isBuffer(key) { continue }
                tensors["lang_encoder.\(layerPrefix)\(rest[..<dot]).decoder_layer\(rest[dot...])"] = item
            } else if known.contains(key) {
                tensors["lang_encoder.\(key)"] = item
            } else if key == "lm_head.weight" && lmConfig.tieWordEmbeddings {
                continue  // tied to the input embeddings
            } else {
                throw ConversionError.unexpectedTensors(source: languageModel, keys: [key])
            }
        }
        // checkpoint.pt supersedes: perceiver, gated cross-attention, resized embeddings.
        let embeddings = Set(["lang_encoder.\(lmConfig.inputEmbedding)"] + [lmConfig.outputHead].compactMap { $0.map { "lang_encoder.\($0)" } })
        var unexpected: [String] = []
        for (key, item) in ck.items {
            if Self.isBuffer(key) {
                continue  // state_dict() keeps buffers, and filter_state_dict_to_trainable only drops parameters
            } else if key.hasPrefix("perceiver.") || key.contains(".gated_cross_attn_layer.") || embeddings.contains(key) {
                tensors[key] = item
            } else if key == "lang_encoder.lm_head.weight" && lmConfig.tieWordEmbeddings {
                continue  // the tied head, saved beside wte by state_dict()
            } else if key.hasPrefix("vision_encoder.") || key.contains(".decoder_layer.") || key.hasPrefix("lang_encoder.\(lmConfig.root).") {
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
        let wteKey = "lang_encoder.\(lmConfig.inputEmbedding)"
        guard let wte = tensors[wteKey]?.shape, wte.count == 2, wte[1] == d else {
            throw ConversionError.mismatch(key: wteKey, reason: "expected (vocab, \(d)), got \(tensors[wteKey]?.shape ?? [])")
        }
        if let head = lmConfig.outputHead.map({ "lang_encoder.\($0)" }), tensors[head]?.shape != wte {
            throw ConversionError.mismatch(key: head, reason: "shape \(tensors[head]?.shape ?? []) differs from the input embeddings' \(wte)")
        }
        let added = try tokenizer.addFlamingoTokens()
        guard tokenizer.count == wte[0] else {
            throw ConversionError.mismatch(key: wteKey,
                                           reason: "has \(wte[0]) rows but the tokenizer with <|endofchunk|>, <image> and pad has \(tokenizer.count) tokens")
        }
        var depth = 0
        while tensors["perceiver.layers.\(depth).0.to_q.weight"] != nil { depth += 1 }
        guard depth > 0, let toQ = tensors["perceiver.layers.0.0.to_q.weight"]?.shape, let ff = tensors["perceiver.layers.0.1.1.weight"]?.shape,
              toQ[0] % dimHead == 0 else {
            throw ConversionError.mismatch(key: "perceiver.layers.0.0.to_q.weight", reason: "missing, or not a multiple of \(dimHead) heads wide")
        }
        let crossPrefix = "lang_encoder.\(layerPrefix)"
        let crossLayers = (0..<lmConfig.nLayers).filter { tensors["\(crossPrefix)\($0).gated_cross_attn_layer.attn_gate"] != nil }
        guard let first = crossLayers.first else {
            throw ConversionError.missingTensor(source: checkpoint, key: "\(crossPrefix)*.gated_cross_attn_layer.attn_gate")
        }
        let every = first + 1
        guard crossLayers == (0..<lmConfig.nLayers).filter({ ($0 + 1) % every == 0 }) else {
            throw ConversionError.mismatch(key: "\(crossPrefix)*.gated_cross_attn_layer",
                                           reason: "cross-attention at layers \(crossLayers) is not every \(every)-th layer")
        }
        let xq = tensors["\(crossPrefix)\(first).gated_cross_attn_layer.attn.to_q.weight"]?.shape ?? []
        let xff = tensors["\(crossPrefix)\(first).gated_cross_attn_layer.ff.1.weight"]?.shape ?? []
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
            "language_model": lmConfig.engineConfig(vocabSize: wte[0], maxSeqLen: maxSeqLen),
            "special_tokens": ["media": added.media, "end_of_chunk": added.endOfChunk, "pad": added.pad, "eos": tokenizer.eos ?? 0],
            "preprocessing": ["image_size": vis.imageSize, "mean": [0.48145466, 0.4578275, 0.40821073],
                              "std": [0.26862954, 0.26130258, 0.27577711]],
        ]

        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        let values = tensors.mapValues { SafetensorsWriter.Tensor(shape: $0.shape, load: $0.load) }
        let parameters = tensors.values.reduce(0) { $0 + $1.shape.reduce(1, *) }
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
