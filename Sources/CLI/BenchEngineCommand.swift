import ArgumentParser
import Foundation
import Model
import Tensor

/// `flamingo bench engine`: our engine against PyTorch on the same random
/// weights in one run (Tests/Benchmarks/torch_peer.py writes the models and
/// times PyTorch), plus the machine limits the figures are judged against:
/// cblas_sgemm alone on the encoder's matmul shapes, and the memory bandwidth
/// a large sgemv reaches (decode is bound by streaming the weights).
struct BenchEngineCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "engine",
        abstract: "Compare the engine with PyTorch: ViT-B/16 over 8 frames, and 32 tokens from a GPT-2-small-sized MosaicGPT.")

    @Option(help: "Python interpreter with torch, open_clip and safetensors (see Tests/Fixtures/setup_reference_env.sh).")
    var python: String = ".venv-reference/bin/python"

    @Option(help: "The PyTorch peer script.")
    var peer: String = "Tests/Benchmarks/torch_peer.py"

    @Option(help: "Where the benchmark models are written.")
    var directory: String = ".bench/engine"

    @Option(help: "Timed runs per measurement (median).")
    var runs: Int = 3

    @Flag(help: "Skip PyTorch (reuse the models already in --directory).")
    var skipPeer = false

    func run() async throws {
        let torch = skipPeer ? [:] : try TorchPeer.run(python: python, script: peer,
                                                       arguments: [directory, "--runs", String(runs)])
        let base = URL(fileURLWithPath: directory)

        // Vision encoder: ViT-B/16, 8 frames at 224.
        let vit = try FlamingoModel.load(directory: base.appendingPathComponent("vit"))
        let frames = 8, r = vit.configuration.vision.imageSize
        var rng = SplitMix(seed: 5)
        let pixels = (0..<(frames * 3 * r * r)).map { _ in rng.nextFloat() * 2 - 1 }
        let vitSeconds = Stopwatch.medianSeconds(runs: runs) { _ = vit.vision.encode(pixels: pixels, frames: frames) }
        let gemmSeconds = Stopwatch.medianSeconds(runs: runs) { Self.encoderMatmulsAlone(vit.configuration.vision, frames: frames) }

        // Decoder: 64-token prompt, then 32 greedy tokens with the KV cache.
        let lm = try FlamingoModel.load(directory: base.appendingPathComponent("lm"))
        let prompt = (0..<64).map { _ in Int(rng.next() % 50000) }
        let memory = lm.mediaMemory([])
        /// Seconds for the prompt + 32 tokens, for the prompt alone, and per token after it.
        func decode(_ model: FlamingoModel) throws -> (generate: Double, prefill: Double, perToken: Double) {
            let generate = try Stopwatch.medianSeconds(runs: runs) { try Self.greedy(model, prompt: prompt, media: memory, tokens: 32) }
            let prefill = try Stopwatch.medianSeconds(runs: runs) { try Self.greedy(model, prompt: prompt, media: memory, tokens: 1) }
            return (generate, prefill, (generate - prefill) / 31)
        }
        let (generateSeconds, prefillSeconds, perToken) = try decode(lm)
        // The same decoder with F16 weights at rest (fused half-precision matrix-vector kernel while decoding).
        let (_, halfPrefillSeconds, halfPerToken) = try decode(try FlamingoModel.load(directory: base.appendingPathComponent("lm-f16")))
        let weightBytes = Double(lm.languageModelParameterCount * 4)
        let bandwidth = Self.streamingBandwidth()
        let shapes = Self.decodeShapes(lm.configuration.languageModel)
        let gemvWeights = shapes.map { [Float](repeating: 0.001, count: $0.n * $0.k) }
        let gemvSeconds = Stopwatch.medianSeconds(runs: runs) { Self.decodeProductsAlone(gemvWeights, shapes: shapes) }

        print("engine benchmark, median of \(runs) run(s); ratio = PyTorch / ours")
        func row(_ name: String, _ ours: Double, _ theirs: Double?) {
            let t = theirs.map { String(format: "%9.3f s", $0) } ?? "        -"
            let ratio = theirs.map { String(format: "%5.2fx", $0 / ours) } ?? "    -"
            print(String(format: "%-44@ ours %8.3f s   torch %@   %@", name as NSString, ours, t, ratio))
        }
        row("ViT-B/16, 8 frames at 224", vitSeconds, torch["vit_8_frames_s"])
        row("MosaicGPT 768x12: 64-token prompt + 32 tokens", generateSeconds, torch["generate_64_32_s"])
        row("  prefill 64 tokens", prefillSeconds, torch["prefill_64_s"])
        print(String(format: "F16 weights at rest: %.1f ms per token, F32 %.1f ms: %.2fx (prefill 64 tokens %.3f s, F32 %.3f s)",
                     halfPerToken * 1e3, perToken * 1e3, perToken / halfPerToken, halfPrefillSeconds, prefillSeconds))
        print(String(format: "limit: the encoder's matmuls alone in cblas_sgemm take %.3f s: ours is %.0f%% above that", gemmSeconds, (vitSeconds / gemmSeconds - 1) * 100))
        print(String(format: "limit: the decode step's matrix-vector products alone in cblas_sgemv take %.1f ms: ours is %.0f%% above that",
                     gemvSeconds * 1e3, (perToken / gemvSeconds - 1) * 100))
        print(String(format: "limit: %.0f MB of weights per token at %.1f GB/s (large sgemv) = %.1f ms; ours %.1f ms per token (%.0f%% above)",
                     weightBytes / 1e6, bandwidth / 1e9, weightBytes / bandwidth * 1e3, perToken * 1e3,
                     (perToken / (weightBytes / bandwidth) - 1) * 100))
    }

    /// The decode workload of both engine benchmarks: `prompt`, then greedy tokens (argmax, no stop token)
    /// with the KV cache until `tokens` have been produced.
    static func greedy(_ model: FlamingoModel, prompt: [Int], media: FlamingoModel.MediaMemory, tokens: Int) throws {
        let vocab = model.configuration.languageModel.vocabSize
        var state = model.makeState(capacity: prompt.count + tokens)
        var logits = try model.forward(tokens: prompt, state: &state, media: media).logits
        for _ in 1..<tokens {
            var best = 0
            for i in 1..<vocab where logits[i] > logits[best] { best = i }
            logits = try model.forward(tokens: [best], state: &state, media: media).logits
        }
    }

    /// The encoder's linear layers and attention products, as bare BLAS calls.
    static func encoderMatmulsAlone(_ c: FlamingoConfiguration.Vision, frames: Int) {
        let t = c.patches + 1, rows = frames * t, w = c.width, m = c.mlpWidth, d = w / c.heads
        let x = [Float](repeating: 0.01, count: rows * max(w, m))
        let weight = [Float](repeating: 0.01, count: max(3 * w, m) * max(w, m))
        var out = [Float](repeating: 0, count: rows * max(3 * w, m))
        var scores = [Float](repeating: 0, count: t * t)
        for _ in 0..<c.layers {
            for (k, n) in [(w, 3 * w), (w, w), (w, m), (m, w)] {
                BLAS.linear(x, rows: rows, inFeatures: k, weight: weight, outFeatures: n, into: &out)
            }
            for _ in 0..<(frames * c.heads) {
                BLAS.gemm(transA: false, transB: true, m: t, n: t, k: d, a: x, lda: 3 * w, b: x, ldb: 3 * w, c: &scores, ldc: t)
                BLAS.gemm(transA: false, transB: false, m: t, n: d, k: t, a: scores, lda: t, b: x, ldb: 3 * w, c: &out, ldc: w)
            }
        }
    }

    /// Weights of one decode step's shapes: (out, in) for every product, the LM head last.
    static func decodeShapes(_ c: FlamingoConfiguration.LanguageModel) -> [(n: Int, k: Int)] {
        let d = c.dModel, f = c.expansionRatio * d
        var shapes: [(n: Int, k: Int)] = []
        for _ in 0..<c.nLayers { shapes += [(3 * d, d), (d, d), (f, d), (d, f)] }
        return shapes + [(c.vocabSize, d)]
    }

    /// One decode step's products as bare sgemv calls.
    static func decodeProductsAlone(_ weights: [[Float]], shapes: [(n: Int, k: Int)]) {
        let x = [Float](repeating: 1, count: shapes.map(\.k).max() ?? 1)
        var y = [Float](repeating: 0, count: shapes.map(\.n).max() ?? 1)
        for (w, shape) in zip(weights, shapes) {
            BLAS.linear(x, rows: 1, inFeatures: shape.k, weight: w, outFeatures: shape.n, into: &y)
        }
    }

    /// Bytes per second that sgemv reaches streaming a 400 MB matrix.
    static func streamingBandwidth() -> Double {
        let rows = 25_000, cols = 4096
        let a = [Float](repeating: 0.001, count: rows * cols)
        let x = [Float](repeating: 1, count: cols)
        var y = [Float](repeating: 0, count: rows)
        var best = Double.infinity
        for _ in 0..<4 {
            let t0 = DispatchTime.now().uptimeNanoseconds
            BLAS.gemm(transA: false, transB: true, m: 1, n: rows, k: cols, a: x, lda: cols, b: a, ldb: cols, c: &y, ldc: rows)
            best = min(best, Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
        }
        return Double(rows * cols * 4) / best
    }
}

/// A small seeded generator for benchmark inputs.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E3779B97F4A7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58476D1CE4E5B9
        z = (z ^ (z >> 27)) &* 0x94D049BB133111EB
        return z ^ (z >> 31)
    }
    mutating func nextFloat() -> Float { Float(next() >> 40) / Float(1 << 24) }
}
