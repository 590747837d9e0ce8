import ArgumentParser
import Conversion
import Foundation

/// `flamingo quantize`: a model directory with int8 linear weights (one scale
/// per output row) or 4-bit ones (blocks of 32, one F16 scale each), loaded
/// back strictly before the command succeeds.
struct QuantizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quantize",
        abstract: "Write a copy of a model with every linear layer's weight in int8 or 4 bits (docs/QUANTIZATION.md).",
        discussion: """
            8 bits: symmetric, one float32 scale per output row; prompts and frames run as oneDNN int8 \
            matmuls, decoding reads the int8 weights directly. 4 bits: blocks of 32 values with one F16 \
            scale each; decoding reads them directly, prompts and frames widen them a tile at a time. \
            Embeddings, LayerNorms, biases, latents and gates keep their dtype.
            """)

    @Argument(help: "The model directory to quantize.")
    var model: String

    @Option(help: "Output model directory.")
    var out: String

    @Option(help: "Bits per linear weight: 8 (int8, one scale per row) or 4 (blocks of 32).")
    var bits: Int = 8

    func run() throws {
        let summary = try CLIError.reporting {
            try ModelQuantizer.quantize(model: URL(fileURLWithPath: model), to: URL(fileURLWithPath: out), bits: bits)
        }
        print(String(format: "wrote %@: %d linear weights in %@, %d tensors kept; tensor data %.1f MB -> %.1f MB",
                     out, summary.quantized, (bits == 4 ? "4 bits" : "int8") as NSString, summary.kept, Double(summary.bytesBefore) / 1e6, Double(summary.bytesAfter) / 1e6))
    }
}
