import Foundation

/// The CLIP vision tower in open_clip's names (`vision_encoder.*` once placed):
/// read from an open_clip state dict (`visual.*`; the text tower is dropped)
/// or from a Hugging Face CLIPVisionModel / CLIPModel directory, whose names
/// are mapped and whose q/k/v projections are packed into `in_proj`
/// (docs/MODEL.md §Conversion, step 1).
struct VisionCheckpoint {
    /// open_clip name (without `visual.`) -> loader.
    var tensors: [String: (shape: [Int], load: () throws -> [Float])] = [:]
    var width = 0, layers = 0, heads = 0, patchSize = 0, imageSize = 0
    var mlpRatio = 4.0
    var activation = "quick_gelu"
    var layerNormEps = 1e-5

    /// `headWidth`: open_clip state dicts carry no config; its ViTs use 64-wide heads.
    init(path: String, activation: String, headWidth: Int) throws {
        let configURL = URL(fileURLWithPath: path).appendingPathComponent("config.json")
        if FileManager.default.fileExists(atPath: configURL.path) {
            try readHuggingFace(path, config: configURL)
        } else {
            let source = try TensorSource(path: path)
            var found = false
            for (key, item) in source.items where key.hasPrefix("visual.") {
                tensors[String(key.dropFirst("visual.".count))] = (item.shape, item.load)
                found = true
            }
            guard found else { throw ConversionError.missingTensor(source: path, key: "visual.conv1.weight (an open_clip state dict)") }
            self.activation = activation
            try inferShapes(source: path)
            guard width % headWidth == 0 else {
                throw ConversionError.mismatch(key: "visual.conv1.weight", reason: "width \(width) is not a multiple of the head width \(headWidth); give the tower's head width (--vision-head-width)")
            }
            heads = width / headWidth
        }
    }

    private mutating func readHuggingFace(_ path: String, config: URL) throws {
        guard let data = try? Data(contentsOf: config), var json = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw ConversionError.badConfig(path: config.path, reason: "not a JSON object")
        }
        if let vision = json["vision_config"] as? [String: Any] { json = vision }  // a full CLIPModel
        guard let h = json["num_attention_heads"] as? Int else {
            throw ConversionError.badConfig(path: config.path, reason: "no num_attention_heads (not a CLIP vision config)")
        }
        heads = h
        activation = (json["hidden_act"] as? String) ?? "quick_gelu"
        guard ["quick_gelu", "gelu"].contains(activation) else {
            throw ConversionError.badConfig(path: config.path, reason: "hidden_act \(activation) is not supported (quick_gelu, gelu)")
        }
        layerNormEps = (json["layer_norm_eps"] as? Double) ?? 1e-5
        let source = try TensorSource(path: path)
        let p = "vision_model."
        func item(_ key: String) throws -> (shape: [Int], load: () throws -> [Float]) {
            guard let i = source.items[p + key] else { throw ConversionError.missingTensor(source: path, key: p + key) }
            return (i.shape, i.load)
        }
        tensors["conv1.weight"] = try item("embeddings.patch_embedding.weight")
        tensors["class_embedding"] = try item("embeddings.class_embedding")
        tensors["positional_embedding"] = try item("embeddings.position_embedding.weight")
        for (ours, theirs) in [("ln_pre", "pre_layrnorm"), ("ln_post", "post_layernorm")] {
            tensors["\(ours).weight"] = try item("\(theirs).weight")
            tensors["\(ours).bias"] = try item("\(theirs).bias")
        }
        var i = 0
        while source.items["\(p)encoder.layers.\(i).layer_norm1.weight"] != nil {
            let hf = "encoder.layers.\(i).", oc = "transformer.resblocks.\(i)."
            for (ours, theirs) in [("ln_1", "layer_norm1"), ("ln_2", "layer_norm2"), ("attn.out_proj", "self_attn.out_proj"),
                                   ("mlp.c_fc", "mlp.fc1"), ("mlp.c_proj", "mlp.fc2")] {
                tensors["\(oc)\(ours).weight"] = try item("\(hf)\(theirs).weight")
                tensors["\(oc)\(ours).bias"] = try item("\(hf)\(theirs).bias")
            }
            for suffix in ["weight", "bias"] {
                let parts = try ["q", "k", "v"].map { try item("\(hf)self_attn.\($0)_proj.\(suffix)") }
                let shape = suffix == "weight" ? [3 * parts[0].shape[0], parts[0].shape.last ?? 0] : [3 * parts[0].shape[0]]
                tensors["\(oc)attn.in_proj_\(suffix)"] = (shape, { try parts.flatMap { try $0.load() } })
            }
            i += 1
        }
        if let projection = source.items["visual_projection.weight"], projection.shape.count == 2 {
            // (out, width) -> open_clip's proj (width, out)
            let (out, w) = (projection.shape[0], projection.shape[1])
            tensors["proj"] = ([w, out], {
                let v = try projection.load()
                return (0..<(w * out)).map { v[($0 % out) * w + $0 / out] }
            })
        }
        try inferShapes(source: path)
        guard width % heads == 0 else { throw ConversionError.badConfig(path: config.path, reason: "hidden size \(width) is not divisible by \(heads) heads") }
    }

    private mutating func inferShapes(source: String) throws {
        guard let conv = tensors["conv1.weight"]?.shape, conv.count == 4, conv[1] == 3, conv[2] == conv[3] else {
            throw ConversionError.mismatch(key: "conv1.weight", reason: "expected (width, 3, patch, patch), got \(tensors["conv1.weight"]?.shape ?? [])")
        }
        width = conv[0]
        patchSize = conv[2]
        guard let positions = tensors["positional_embedding"]?.shape.first, let side = Optional(Int(Double(positions - 1).squareRoot())),
              side * side == positions - 1 else {
            throw ConversionError.mismatch(key: "positional_embedding", reason: "expected 1 + a square number of positions")
        }
        imageSize = side * patchSize
        while tensors["transformer.resblocks.\(layers).ln_1.weight"] != nil { layers += 1 }
        guard layers > 0, let fc = tensors["transformer.resblocks.0.mlp.c_fc.weight"]?.shape.first else {
            throw ConversionError.missingTensor(source: source, key: "transformer.resblocks.0.*")
        }
        mlpRatio = Double(fc) / Double(width)
        // Text tower, logit scale, attention pools: not part of the vision encoder.
        tensors = tensors.filter { key, _ in
            ["conv1.", "class_embedding", "positional_embedding", "ln_pre.", "ln_post.", "proj", "transformer.resblocks."]
                .contains { key.hasPrefix($0) } && !key.hasPrefix("proj.")
        }
    }
}
