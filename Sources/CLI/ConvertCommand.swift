import ArgumentParser
import Conversion
import Foundation
import VideoIO
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

    @Option(help: "Weights at rest: f32, f16, bf16, int8 (linear layers in int8 with per-row scales, the rest f32) or q4 (linear layers in 4 bits, blocks of 32); see flamingo quantize.")
    var dtype: String = "f32"

    @Option(help: "Activation of an open_clip vision tower (state dicts carry no config): quick_gelu (OpenAI CLIP) or gelu.")
    var visionActivation: String = "quick_gelu"

    @Option(help: "Head width of the perceiver and cross-attention (OpenFlamingo's released models: 64).")
    var dimHead: Int = 64

    @Option(help: "Head width of an open_clip vision tower (state dicts carry no config; CLIP ViTs: 64).")
    var visionHeadWidth: Int = 64

    @Option(help: "Context length to serve (default: the language model's max_seq_len).")
    var maxSeqLen: Int?

    @Option(help: "Videos of the footage this model is meant for (a directory): compute its in-domain statistics from them (see flamingo calibrate).")
    var calibrate: String?

    func validate() throws {
        guard ["f32", "f16", "bf16", "int8", "q4"].contains(dtype.lowercased()) else { throw ValidationError("--dtype must be f32, f16, bf16, int8 or q4") }
        guard ["quick_gelu", "gelu"].contains(visionActivation) else { throw ValidationError("--vision-activation must be quick_gelu or gelu") }
        guard dimHead >= 1, visionHeadWidth >= 1 else { throw ValidationError("head widths must be positive") }
    }

    func run() async throws {
        var converter = OpenFlamingoConverter(checkpoint: checkpoint, vision: vision, languageModel: lm)
        let int8 = ["int8", "q4"].contains(dtype.lowercased())  // quantized after converting
        let bits = dtype.lowercased() == "q4" ? 4 : 8
        converter.dtype = int8 ? .f32 : SafetensorsWriter.DType(rawValue: dtype.uppercased()) ?? .f32
        converter.visionActivation = visionActivation
        converter.maxSeqLen = maxSeqLen
        converter.dimHead = dimHead
        converter.visionHeadWidth = visionHeadWidth
        let target = URL(fileURLWithPath: out)
        // int8 and q4: convert to float32 beside the output, then quantize into it.
        let converted = int8 ? target.deletingLastPathComponent().appendingPathComponent(".\(target.lastPathComponent).f32-\(getpid())") : target
        defer { if int8 { try? FileManager.default.removeItem(at: converted) } }
        let summary = try CLIError.reporting { try converter.convert(to: converted) }
        if int8 { _ = try CLIError.reporting { try ModelQuantizer.quantize(model: converted, to: target, bits: bits) } }
        let tokens = summary.addedTokens.sorted { $0.value < $1.value }.map { "\($0.key)=\($0.value)" }.joined(separator: ", ")
        print("wrote \(out): \(summary.tensors) tensors, \(summary.parameters) parameters (\(dtype)); special tokens \(tokens)")
        if let calibrate {
            let calibration = try CLIError.reporting {
                try Calibration.run(model: target, paths: [calibrate], frames: 8, rank: 64, percentile: 99.5, margin: 1.5,
                                    limits: VideoReaderLimits.commandLine) { FileHandle.standardError.write(Data(($0 + "\n").utf8)) }
            }
            for line in calibration.skipped { FileHandle.standardError.write(Data("skipped \(line)\n".utf8)) }
            print(Calibration.report(calibration, directory: target))
        }
    }
}
