import ArgumentParser
import Foundation
import Conversion
import Model

/// `flamingo bench caption`: seconds per 8-frame caption (20 tokens) with a
/// model of OpenFlamingo-3B's shapes and random weights, ours against PyTorch
/// in the same run (Tests/Benchmarks/torch_peer_3b.py builds the model from
/// OpenFlamingo's classes, writes it as f32 and f16 model directories and
/// times PyTorch). Measures speed at real size, not quality.
struct BenchCaptionCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "caption",
        abstract: "Seconds per 8-frame, 20-token caption at OpenFlamingo-3B size (random weights), against PyTorch.")

    @Option(help: "Python interpreter with torch, open_clip and open_flamingo (see Tests/Fixtures/setup_reference_env.sh).")
    var python: String = ".venv-reference/bin/python"

    @Option(help: "The PyTorch peer script.")
    var peer: String = "Tests/Benchmarks/torch_peer_3b.py"

    @Option(help: "Where the benchmark model is written (15 GB: f32 and f16 copies).")
    var directory: String = ".bench/of3b"

    @Option(help: "Timed runs per measurement (median, after one warm-up).")
    var runs: Int = 1

    @Flag(help: "Skip PyTorch (reuse the models already in --directory).")
    var skipPeer = false

    @Flag(help: "Toy widths (a few MB, in --directory/smoke): checks that the benchmark runs end to end; its times mean nothing.")
    var smoke = false

    static let frames = 8, tokens = 20
    /// `<image>` and three ordinary ids standing for "Caption:", as the peer uses.
    static let promptText = [34, 5313, 25]

    func run() async throws {
        let directory = smoke ? URL(fileURLWithPath: self.directory).appendingPathComponent("smoke").path : self.directory
        let torch = skipPeer ? [:] : try TorchPeer.run(
            python: python, script: peer,
            arguments: [directory, "--runs", String(runs), "--frames", String(Self.frames), "--tokens", String(Self.tokens)]
                + (smoke ? ["--smoke"] : []))
        print(smoke ? "caption benchmark, smoke run at toy widths (checks that it runs; the times mean nothing):"
                    : "caption benchmark at OpenFlamingo-3B size (ViT-L/14, Perceiver 6x64, MPT-1B + cross-attention every layer),")
        print("\(Self.frames) frames as one media item, `<image>` + 3 prompt tokens, \(Self.tokens) greedy tokens; median of \(runs) run(s) after a warm-up")
        let base = URL(fileURLWithPath: directory)
        // The int8 copy: `flamingo quantize` of the F16 one (linear layers int8, the rest F16).
        let int8Directory = base.appendingPathComponent("int8")
        if !skipPeer || !FileManager.default.fileExists(atPath: int8Directory.appendingPathComponent("model.safetensors").path) {
            try? FileManager.default.removeItem(at: int8Directory)
            _ = try ModelQuantizer.quantize(model: base.appendingPathComponent("f16"), to: int8Directory)
        }
        var ours: [String: Double] = [:]
        for dtype in ["f32", "f16", "int8"] {
            let t0 = DispatchTime.now().uptimeNanoseconds
            let model = try FlamingoModel.load(directory: base.appendingPathComponent(dtype))
            let loadSeconds = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
            let (caption, vision) = try time(model)
            ours[dtype] = caption
            let theirs = torch["caption_s"]
            let ratio = theirs.map { String(format: "%.2fx", $0 / caption) } ?? "-"
            print(String(format: "ours, %@ weights at rest: %.2f s per caption (vision + resampler %.2f s; load %.1f s)   PyTorch fp32: %@   ratio PyTorch / ours: %@",
                         dtype, caption, vision, loadSeconds, theirs.map { String(format: "%.2f s", $0) } ?? "-", ratio))
        }
        if let v = torch["vision_resampler_s"] {
            print(String(format: "PyTorch vision + resampler: %.2f s", v))
        }
        if let int8 = torch["caption_int8_s"] {
            print(String(format: "PyTorch quantize_dynamic int8 (oneDNN, %.0f thread(s)): %.2f s per caption   ratio PyTorch int8 / ours int8: %.2fx",
                         torch["int8_threads"] ?? 0, int8, int8 / (ours["int8"] ?? .nan)))
        }
    }

    /// (caption seconds, vision + resampler seconds) for one model.
    private func time(_ model: FlamingoModel) throws -> (Double, Double) {
        let r = model.configuration.vision.imageSize
        var rng = SplitMix(seed: 1)
        let pixels = (0..<(Self.frames * 3 * r * r)).map { _ in rng.nextFloat() * 2 - 1 }
        let prompt = [model.configuration.specialTokens.media] + Self.promptText
        let caption = try Stopwatch.medianSeconds(runs: runs) {
            let memory = model.mediaMemory([try model.encodeMedia(pixels: pixels, frames: Self.frames)])
            try BenchEngineCommand.greedy(model, prompt: prompt, media: memory, tokens: Self.tokens)
        }
        let vision = try Stopwatch.medianSeconds(runs: runs) { _ = try model.encodeMedia(pixels: pixels, frames: Self.frames) }
        return (caption, vision)
    }
}
