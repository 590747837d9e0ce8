import Foundation
import Model

/// The Hugging Face config.json of the language model, for the three families
/// of the released OpenFlamingo models (docs/MODEL.md §Released models, §Language models):
/// "mosaic_gpt" (MPT-1B), "mpt" (MPT-7B, llm-foundry names) and "gpt_neox"
/// (RedPajama-INCITE). Also says where each family keeps its tensors.
struct LanguageModelConfig {
    var architecture: String
    var dModel: Int, nHeads: Int, nLayers: Int, expansionRatio: Int, maxSeqLen: Int
    var alibi = false, alibiBiasMax = 8.0, attnQkLn = false, noBias = false, layerNormEps = 1e-5
    var tieWordEmbeddings = true
    var rotaryPct: Double?, rotaryEmbBase: Double?, useParallelResidual: Bool?

    /// The family's tensor names (the engine's table, Model/LanguageModelArchitecture.swift).
    var names: LanguageModelTensorNames { (LanguageModelArchitecture(rawValue: architecture) ?? .mosaicGPT).names }
    /// Module holding the embeddings and decoder layers ("transformer" or "gpt_neox").
    var root: String { names.root }
    /// Decoder layers under `root` ("blocks" or "layers").
    var layers: String { names.layers }
    var inputEmbedding: String { names.inputEmbedding }
    /// The untied output head, when there is one (GPT-NeoX's; the MPT families tie theirs).
    var outputHead: String? { architecture == LanguageModelArchitecture.gptNeoX.rawValue ? names.outputHead : nil }
    var finalNorm: String { names.finalNorm }

    init(url: URL) throws {
        guard FileManager.default.fileExists(atPath: url.path) else { throw ConversionError.missingFile(path: url.path, what: "the language model's config.json") }
        guard let data = try? Data(contentsOf: url), let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw ConversionError.badConfig(path: url.path, reason: "not a JSON object")
        }
        func int(_ key: String, in object: [String: Any] = json) throws -> Int {
            guard let v = object[key] as? Int else { throw ConversionError.badConfig(path: url.path, reason: "\(key) is missing or not an integer") }
            return v
        }
        func number(_ key: String, _ fallback: Double, in object: [String: Any] = json) -> Double {
            (object[key] as? Double) ?? (object[key] as? Int).map(Double.init) ?? fallback
        }
        let type = json["model_type"] as? String ?? "(none)"
        architecture = type
        switch type {
        case "mosaic_gpt":
            dModel = try int("d_model"); nHeads = try int("n_heads"); nLayers = try int("n_layers")
            expansionRatio = try (json["expansion_ratio"] as? Int) ?? int("mlp_ratio")
            maxSeqLen = try int("max_seq_len")
            alibi = json["alibi"] as? Bool ?? false
            alibiBiasMax = number("alibi_bias_max", 8)
            attnQkLn = json["attn_qk_ln"] as? Bool ?? false
            noBias = json["no_bias"] as? Bool ?? false
            layerNormEps = number("layer_norm_eps", 1e-5)
            guard alibi else { throw ConversionError.badConfig(path: url.path, reason: "MosaicGPT without ALiBi (learned positions) is not supported") }
        case "mpt":
            dModel = try int("d_model"); nHeads = try int("n_heads"); nLayers = try int("n_layers")
            expansionRatio = try int("expansion_ratio"); maxSeqLen = try int("max_seq_len")
            let attn = json["attn_config"] as? [String: Any] ?? [:]
            alibi = attn["alibi"] as? Bool ?? false
            alibiBiasMax = number("alibi_bias_max", 8, in: attn)
            noBias = json["no_bias"] as? Bool ?? true
            layerNormEps = number("layer_norm_epsilon", 1e-5)
            guard alibi else { throw ConversionError.badConfig(path: url.path, reason: "MPT without ALiBi (learned positions) is not supported") }
            guard !(attn["qk_ln"] as? Bool ?? false) else { throw ConversionError.badConfig(path: url.path, reason: "MPT with qk_ln is not supported") }
            for key in ["clip_qkv", "softmax_scale"] where !(attn[key] == nil || attn[key] is NSNull) {
                throw ConversionError.badConfig(path: url.path, reason: "attn_config.\(key) is set; only the default (null) is supported")
            }
        case "gpt_neox":
            dModel = try int("hidden_size"); nHeads = try int("num_attention_heads"); nLayers = try int("num_hidden_layers")
            let intermediate = try int("intermediate_size")
            guard intermediate % dModel == 0 else {
                throw ConversionError.badConfig(path: url.path, reason: "intermediate_size \(intermediate) is not a multiple of hidden_size \(dModel)")
            }
            expansionRatio = intermediate / dModel
            maxSeqLen = try int("max_position_embeddings")
            layerNormEps = number("layer_norm_eps", 1e-5)
            tieWordEmbeddings = json["tie_word_embeddings"] as? Bool ?? false
            rotaryPct = number("rotary_pct", 1)
            rotaryEmbBase = number("rotary_emb_base", 10000)
            useParallelResidual = json["use_parallel_residual"] as? Bool ?? true
            guard (json["hidden_act"] as? String ?? "gelu") == "gelu" else {
                throw ConversionError.badConfig(path: url.path, reason: "hidden_act \(json["hidden_act"] ?? "") is not supported (gelu)")
            }
            guard !tieWordEmbeddings else { throw ConversionError.badConfig(path: url.path, reason: "GPT-NeoX with tied embeddings is not supported") }
        default:
            throw ConversionError.unsupportedLanguageModel(path: url.path, modelType: type)
        }
    }

    /// The engine's `language_model` entry.
    func engineConfig(vocabSize: Int, maxSeqLen override: Int?) -> [String: Any] {
        var out: [String: Any] = [
            "architecture": architecture, "vocab_size": vocabSize, "d_model": dModel, "n_heads": nHeads, "n_layers": nLayers,
            "expansion_ratio": expansionRatio, "max_seq_len": override ?? maxSeqLen, "alibi": alibi, "alibi_bias_max": alibiBiasMax,
            "attn_qk_ln": attnQkLn, "no_bias": noBias, "layer_norm_eps": layerNormEps, "tie_word_embeddings": tieWordEmbeddings,
        ]
        if let rotaryPct { out["rotary_pct"] = rotaryPct }
        if let rotaryEmbBase { out["rotary_emb_base"] = rotaryEmbBase }
        if let useParallelResidual { out["use_parallel_residual"] = useParallelResidual }
        return out
    }
}
