/// The decoder families the engine runs, and where each keeps its tensors in a model directory
/// (OpenFlamingo's names: the Hugging Face model's own keys; docs/MODEL.md, "Language models" and
/// "Released models"). Adding a family is one case here, its table below and its block type.
public enum LanguageModelArchitecture: String, CaseIterable, Sendable {
    /// MPT-1B (mosaicml/mpt-1b-redpajama-200b, `MosaicGPT`).
    case mosaicGPT = "mosaic_gpt"
    /// MPT-7B (llm-foundry / transformers `MptForCausalLM` names).
    case mpt
    /// RedPajama-INCITE (`GPTNeoXForCausalLM`).
    case gptNeoX = "gpt_neox"

    /// The family's tensor names, relative to the language model (no `lang_encoder.` prefix).
    public var names: LanguageModelTensorNames {
        switch self {
        case .mosaicGPT:
            LanguageModelTensorNames(root: "transformer", layers: "blocks", inputEmbedding: "transformer.wte.weight", outputHead: "lm_head.weight",
                                     finalNorm: "transformer.ln_f", norm1: "ln_1", norm2: "ln_2", up: "mlp.mlp_up", down: "mlp.mlp_down")
        case .mpt:
            LanguageModelTensorNames(root: "transformer", layers: "blocks", inputEmbedding: "transformer.wte.weight", outputHead: "lm_head.weight",
                                     finalNorm: "transformer.norm_f", norm1: "norm_1", norm2: "norm_2", up: "ffn.up_proj", down: "ffn.down_proj")
        case .gptNeoX:
            LanguageModelTensorNames(root: "gpt_neox", layers: "layers", inputEmbedding: "gpt_neox.embed_in.weight", outputHead: "embed_out.weight",
                                     finalNorm: "gpt_neox.final_layer_norm", norm1: "input_layernorm", norm2: "post_attention_layernorm",
                                     up: "mlp.dense_h_to_4h", down: "mlp.dense_4h_to_h")
        }
    }
}

/// One decoder family's tensor names (whisper.cpp's and llama.cpp's tensor-name tables play this role).
public struct LanguageModelTensorNames: Sendable {
    /// The module holding the embeddings and decoder layers.
    public let root: String
    /// The decoder layers under `root`.
    public let layers: String
    public let inputEmbedding: String
    /// The output head when it is not tied to the input embedding.
    public let outputHead: String
    public let finalNorm: String
    /// Within a decoder layer: the two norms and the MLP's two projections.
    public let norm1: String, norm2: String, up: String, down: String

    /// Decoder layer `index`, e.g. "transformer.blocks.3".
    public func layer(_ index: Int) -> String { "\(root).\(layers).\(index)" }
}
