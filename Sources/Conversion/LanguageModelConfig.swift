import Foundation

/// The Hugging Face config.json of the language model. Only MosaicGPT
/// (`model_type` "mosaic_gpt": MPT-1B, OpenFlamingo-3B's LM) is served today.
struct LanguageModelConfig {
    var dModel: Int, nHeads: Int, nLayers: Int, expansionRatio: Int, maxSeqLen: Int
    var alibi: Bool, alibiBiasMax: Double, attnQkLn: Bool, noBias: Bool, layerNormEps: Double

    init(url: URL) throws {
        guard FileManager.default.fileExists(atPath: url.path) else { throw ConversionError.missingFile(path: url.path, what: "the language model's config.json") }
        guard let data = try? Data(contentsOf: url), let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw ConversionError.badConfig(path: url.path, reason: "not a JSON object")
        }
        let type = json["model_type"] as? String ?? "(none)"
        guard type == "mosaic_gpt" else { throw ConversionError.unsupportedLanguageModel(path: url.path, modelType: type) }
        func int(_ key: String) throws -> Int {
            guard let v = json[key] as? Int else { throw ConversionError.badConfig(path: url.path, reason: "\(key) is missing or not an integer") }
            return v
        }
        dModel = try int("d_model")
        nHeads = try int("n_heads")
        nLayers = try int("n_layers")
        expansionRatio = try (json["expansion_ratio"] as? Int) ?? int("mlp_ratio")
        maxSeqLen = try int("max_seq_len")
        alibi = json["alibi"] as? Bool ?? false
        alibiBiasMax = (json["alibi_bias_max"] as? Double) ?? 8
        attnQkLn = json["attn_qk_ln"] as? Bool ?? false
        noBias = json["no_bias"] as? Bool ?? false
        layerNormEps = (json["layer_norm_eps"] as? Double) ?? 1e-5
        guard alibi else { throw ConversionError.badConfig(path: url.path, reason: "MosaicGPT without ALiBi (learned positions) is not supported") }
    }
}
