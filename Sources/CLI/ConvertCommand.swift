import ArgumentParser
import Conversion
import Foundation
import Weights

/// `flamingo convert`: a released OpenFlamingo model into the engine's format.
struct ConvertCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "convert",
        abstract: "Convert a downloaded OpenFlamingo model (checkpoint.pt + CLIP vision + Hugging Face LM) into a model directory.",
        discussion: """
            Reads torch.save files without executing their pickles. Language models: MosaicGPT \
            (MPT-1B, as in OpenFlamingo-3B); others are refused by name. The output directory is \
            loaded back with the engine's strict loader before the command succeeds.
            """)

    @Option(help: "OpenFlamingo's checkpoint.pt (perceiver, gated cross-attention, resized embeddings).")
    var checkpoint: String

    @Option(help: "The CLIP vision weights: an open_clip state dict file, or a Hugging Face CLIP directory.")
    var vision: String

    @Option(help: "The language model's Hugging Face directory (config.json, weights, tokenizer.json).")
    var lm: String

    @Option(help: "Output model directory.")
    var out: String

    @Option(help: "Weights at rest: f32, f16 or bf16.")
    var dtype: String = "f32"

    @Option(help: "Activation of an open_clip vision tower (state dicts carry no config): quick_gelu (OpenAI CLIP) or gelu.")
    var visionActivation: String = "quick_gelu"

    @Option(help: "Head width of the perceiver and cross-attention (OpenFlamingo's released models: 64).")
    var dimHead: Int = 64

    @Option(help: "Head width of an open_clip vision tower (state dicts carry no config; CLIP ViTs: 64).")
    var visionHeadWidth: Int = 64

    @Option(help: "Context length to serve (default: the language model's max_seq_len).")
    var maxSeqLen: Int?

    func validate() throws {
        guard SafetensorsWriter.DType(rawValue: dtype.uppercased()) != nil else { throw ValidationError("--dtype must be f32, f16 or bf16") }
        guard ["quick_gelu", "gelu"].contains(visionActivation) else { throw ValidationError("--vision-activation must be quick_gelu or gelu") }
        guard dimHead >= 1, visionHeadWidth >= 1 else { throw ValidationError("head widths must be positive") }
    }

    func run() async throws {
        var converter = OpenFlamingoConverter(checkpoint: checkpoint, vision: vision, languageModel: lm)
        converter.dtype = SafetensorsWriter.DType(rawValue: dtype.uppercased()) ?? .f32
        converter.visionActivation = visionActivation
        converter.maxSeqLen = maxSeqLen
        converter.dimHead = dimHead
        converter.visionHeadWidth = visionHeadWidth
        let summary = try CLIError.reporting { try converter.convert(to: URL(fileURLWithPath: out)) }
        let tokens = summary.addedTokens.sorted { $0.value < $1.value }.map { "\($0.key)=\($0.value)" }.joined(separator: ", ")
        print("wrote \(out): \(summary.tensors) tensors, \(summary.parameters) parameters (\(dtype)); special tokens \(tokens)")
    }
}
