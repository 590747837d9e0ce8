import ArgumentParser
import Conversion
import Foundation

/// `flamingo quantize`: a model directory with int8 linear weights (one scale
/// per output row), loaded back strictly before the command succeeds.
struct QuantizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quantize",
        abstract: "Write a copy of a model with every linear layer's weight in int8 (docs/QUANTIZATION.md).",
        discussion: """
            Symmetric, one float32 scale per output row. Embeddings, LayerNorms, biases, latents and gates \
            keep their dtype. Decoding reads the int8 weights directly; prompts and frames widen them a \
            tile at a time.
            """)

    @Argument(help: "The model directory to quantize.")
    var model: String

    @Option(help: "Output model directory.")
    var out: String

    func run() throws {
        let summary = try CLIError.reporting {
            try ModelQuantizer.quantize(model: URL(fileURLWithPath: model), to: URL(fileURLWithPath: out))
        }
        print(String(format: "wrote %@: %d linear weights in int8, %d tensors kept; tensor data %.1f MB -> %.1f MB",
                     out, summary.quantized, summary.kept, Double(summary.bytesBefore) / 1e6, Double(summary.bytesAfter) / 1e6))
    }
}
