import ArgumentParser
import Conversion
import Foundation
import Model
import Tensor
import Weights

/// `flamingo bench engine`: our engine against PyTorch on the same random
/// weights in one run (Tests/Benchmarks/torch_peer.py writes the models and
/// times PyTorch one call at a time, interleaved with ours), plus the machine
/// limits the figures are judged against: cblas_sgemm alone on the encoder's
/// matmul shapes, the decode step's products as bare sgemv calls, and the
/// memory bandwidth a large sgemv reaches (decode is bound by streaming the
/// weights).
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

    @Option(help: "Timed runs; each times PyTorch, ours and the limits back to back (medians, median ratios).")
    var runs: Int = 3

    @Flag(help: "Skip PyTorch (reuse the models already in --directory).")
    var skipPeer = false

    func run() async throws {
        // PyTorch builds and writes the models first, then stays up to time one call per request.
        let torch = skipPeer ? nil : try TorchPeerSession(python: python, script: peer, arguments: [directory])
        let base = URL(fileURLWithPath: directory)

        // Vision encoder: ViT-B/16, 8 frames at 224. Each run times PyTorch, ours and the bare sgemm
        // calls back to back, so that every ratio compares timings taken under the same load.
        let vit = try FlamingoModel.load(directory: base.appendingPathComponent("vit"))
        let frames = 8, r = vit.configuration.vision.imageSize
        var rng = SplitMix(seed: 5)
        let pixels = (0..<(frames * 3 * r * r)).map { _ in rng.nextFloat() * 2 - 1 }
        let encode = { _ = vit.vision.encode(pixels: pixels, frames: frames) }
        let matmuls = { Self.encoderMatmulsAlone(vit.configuration.vision, frames: frames) }
        // The same encoder with int8 linear layers (ours: `flamingo quantize`; PyTorch: quantize_dynamic).
        let vitInt8Directory = base.appendingPathComponent("vit-int8")
        if !FileManager.default.fileExists(atPath: vitInt8Directory.appendingPathComponent("model.safetensors").path) {
            _ = try ModelQuantizer.quantize(model: base.appendingPathComponent("vit"), to: vitInt8Directory)
        }
        let vitInt8 = try FlamingoModel.load(directory: vitInt8Directory)
        let encodeInt8 = { _ = vitInt8.vision.encode(pixels: pixels, frames: frames) }
        let int8Limit = try EncoderInt8Limit(vit.configuration.vision, frames: frames)
        encode()
        matmuls()
        encodeInt8()
        try int8Limit.run()
        var vitRuns: [VisionRun] = []
        for _ in 0..<max(1, runs) {
            var run = VisionRun()
            run.torch = try torch?.seconds("vit")
            run.ours = Stopwatch.settledSeconds(encode)
            run.gemm = Stopwatch.settledSeconds(matmuls)
            run.torchInt8 = try torch?.seconds("vit-int8")
            run.int8 = Stopwatch.settledSeconds(encodeInt8)
            run.int8Matmuls = try Stopwatch.settledSeconds { try int8Limit.run() }
            vitRuns.append(run)
        }

        // Decoder: 64-token prompt, then 32 greedy tokens with the KV cache; the same decoder with F16
        // weights at rest (fused half-precision matrix-vector kernel while decoding); the decode step's
        // products as bare sgemv calls; and the rate a large sgemv streams weights at.
        let lm = try FlamingoModel.load(directory: base.appendingPathComponent("lm"))
        let half = try FlamingoModel.load(directory: base.appendingPathComponent("lm-f16"))
        // Int8 linear layers (the F16 model quantized: embeddings and the tied head stay F16).
        let int8Directory = base.appendingPathComponent("lm-int8")
        if !FileManager.default.fileExists(atPath: int8Directory.appendingPathComponent("model.safetensors").path) {
            _ = try ModelQuantizer.quantize(model: base.appendingPathComponent("lm-f16"), to: int8Directory)
        }
        let int8 = try FlamingoModel.load(directory: int8Directory)
        // 4-bit linear layers (q4_block32), the same way.
        let q4Directory = base.appendingPathComponent("lm-q4")
        if !FileManager.default.fileExists(atPath: q4Directory.appendingPathComponent("model.safetensors").path) {
            _ = try ModelQuantizer.quantize(model: base.appendingPathComponent("lm-f16"), to: q4Directory, bits: 4)
        }
        let q4 = try FlamingoModel.load(directory: q4Directory)
        let prompt = (0..<64).map { _ in Int(rng.next() % 50000) }
        let memory = lm.mediaMemory([])
        let shapes = Self.decodeShapes(lm.configuration.languageModel)
        let gemvWeights = shapes.map { [Float](repeating: 0.001, count: $0.n * $0.k) }
        let streaming = StreamingProbe()
        let weightBytes = Double(lm.languageModelParameterCount * 4)
        for model in [lm, half, int8, q4] { try Self.greedy(model, prompt: prompt, media: memory, tokens: 32) }
        Self.decodeProductsAlone(gemvWeights, shapes: shapes)
        var decodeRuns: [DecodeRun] = []
        for _ in 0..<max(1, runs) {
            var run = DecodeRun()
            run.torchGenerate = try torch?.seconds("generate")
            run.generate = try Stopwatch.settledSeconds { try Self.greedy(lm, prompt: prompt, media: memory, tokens: 32) }
            run.torchPrefill = try torch?.seconds("prefill")
            run.prefill = try Stopwatch.settledSeconds { try Self.greedy(lm, prompt: prompt, media: memory, tokens: 1) }
            run.halfGenerate = try Stopwatch.settledSeconds { try Self.greedy(half, prompt: prompt, media: memory, tokens: 32) }
            run.halfPrefill = try Stopwatch.settledSeconds { try Self.greedy(half, prompt: prompt, media: memory, tokens: 1) }
            run.int8Generate = try Stopwatch.settledSeconds { try Self.greedy(int8, prompt: prompt, media: memory, tokens: 32) }
            run.int8Prefill = try Stopwatch.settledSeconds { try Self.greedy(int8, prompt: prompt, media: memory, tokens: 1) }
            run.q4Generate = try Stopwatch.settledSeconds { try Self.greedy(q4, prompt: prompt, media: memory, tokens: 32) }
            run.q4Prefill = try Stopwatch.settledSeconds { try Self.greedy(q4, prompt: prompt, media: memory, tokens: 1) }
            run.gemv = Stopwatch.settledSeconds { Self.decodeProductsAlone(gemvWeights, shapes: shapes) }
            run.bandwidth = streaming.bytesPerSecond()
            decodeRuns.append(run)
        }

        let median = Stopwatch.median
        print("engine benchmark: \(max(1, runs)) run(s), each timing PyTorch, ours and the limits back to back; "
              + "medians, ratio = median of the runs' PyTorch / ours (OpenBLAS \(BLASEnvironment.currentCore) kernels, "
              + "vector kernels \(Ops.vectorInstructionSet))")
        func row(_ name: String, ours: [Double], theirs: [Double?]) {
            let paired = zip(ours, theirs).compactMap { ours, theirs in theirs.map { $0 / ours } }
            let t = paired.isEmpty ? "        -" : String(format: "%9.3f s", median(theirs.compactMap { $0 }))
            let ratio = paired.isEmpty ? "    -"
                : String(format: "%5.2fx [%.2f-%.2f]", median(paired), paired.min() ?? 0, paired.max() ?? 0)
            print(String(format: "%-44@ ours %8.3f s   torch %@   %@", name as NSString, median(ours), t, ratio))
        }
        row("ViT-B/16, 8 frames at 224", ours: vitRuns.map(\.ours), theirs: vitRuns.map(\.torch))
        row("  int8 (ours) vs PyTorch fp32", ours: vitRuns.map(\.int8), theirs: vitRuns.map(\.torch))
        row("  int8 (ours) vs PyTorch quantize_dynamic", ours: vitRuns.map(\.int8), theirs: vitRuns.map(\.torchInt8))
        row("MosaicGPT 768x12: 64-token prompt + 32 tokens", ours: decodeRuns.map(\.generate), theirs: decodeRuns.map(\.torchGenerate))
        row("  prefill 64 tokens", ours: decodeRuns.map(\.prefill), theirs: decodeRuns.map(\.torchPrefill))
        let perToken = decodeRuns.map(\.perToken), halfPerToken = decodeRuns.map(\.halfPerToken)
        print(String(format: "F16 weights at rest: %.1f ms per token, F32 %.1f ms: %.2fx (prefill 64 tokens %.3f s, F32 %.3f s)",
                     median(halfPerToken) * 1e3, median(perToken) * 1e3, median(zip(perToken, halfPerToken).map { $0 / $1 }),
                     median(decodeRuns.map(\.halfPrefill)), median(decodeRuns.map(\.prefill))))
        let int8PerToken = decodeRuns.map(\.int8PerToken)
        let int8Bytes = Double(int8.parametersKeptInInt8 + 2 * (int8.languageModelParameterCount - int8.parametersKeptInInt8))
        let int8Bound = decodeRuns.map { int8Bytes / $0.bandwidth }
        print(String(format: "Int8 linear layers (F16 embeddings): %.1f ms per token, F16 %.1f ms: %.2fx (prefill 64 tokens %.3f s); "
                     + "%.0f MB per token at %.1f GB/s = %.1f ms (%.0f%% above)",
                     median(int8PerToken) * 1e3, median(halfPerToken) * 1e3, median(zip(halfPerToken, int8PerToken).map { $0 / $1 }),
                     median(decodeRuns.map(\.int8Prefill)), int8Bytes / 1e6, median(decodeRuns.map(\.bandwidth)) / 1e9,
                     median(int8Bound) * 1e3, (median(zip(int8PerToken, int8Bound).map { $0 / $1 }) - 1) * 100))
        let q4PerToken = decodeRuns.map(\.q4PerToken)
        // 4.5 bits per quantized weight (4 + an F16 scale per 32), the rest in F16.
        let q4Bytes = Double(q4.parametersKeptInQ4) * 4.5 / 8 + Double(2 * (q4.languageModelParameterCount - q4.parametersKeptInQ4))
        let q4Bound = decodeRuns.map { q4Bytes / $0.bandwidth }
        print(String(format: "4-bit linear layers (q4_block32, F16 embeddings): %.1f ms per token, F16 %.1f ms: %.2fx (prefill 64 tokens %.3f s); "
                     + "%.0f MB per token at %.1f GB/s = %.1f ms (%.0f%% above)",
                     median(q4PerToken) * 1e3, median(halfPerToken) * 1e3, median(zip(halfPerToken, q4PerToken).map { $0 / $1 }),
                     median(decodeRuns.map(\.q4Prefill)), q4Bytes / 1e6, median(decodeRuns.map(\.bandwidth)) / 1e9,
                     median(q4Bound) * 1e3, (median(zip(q4PerToken, q4Bound).map { $0 / $1 }) - 1) * 100))
        print(String(format: "limit: the encoder's matmuls alone in cblas_sgemm take %.3f s: ours is %.0f%% above that",
                     median(vitRuns.map(\.gemm)), (median(vitRuns.map { $0.ours / $0.gemm }) - 1) * 100))
        print(String(format: "limit: the encoder's linear layers alone as oneDNN int8 matmuls (%@) take %.3f s, %.0f GOP/s; "
                     + "int8 ours is %.0f%% above that (its attention products stay float32: %.3f s in sgemm)",
                     Int8Matmul.implementation as NSString, median(vitRuns.map(\.int8Matmuls)),
                     int8Limit.operations / median(vitRuns.map(\.int8Matmuls)) / 1e9,
                     (median(vitRuns.map { $0.int8 / $0.int8Matmuls }) - 1) * 100, median(vitRuns.map(\.gemm)) * int8Limit.attentionShare))
        print(String(format: "limit: the decode step's matrix-vector products alone in cblas_sgemv take %.1f ms: ours is %.0f%% above that",
                     median(decodeRuns.map(\.gemv)) * 1e3, (median(decodeRuns.map { $0.perToken / $0.gemv }) - 1) * 100))
        let bound = decodeRuns.map { weightBytes / $0.bandwidth }
        print(String(format: "limit: %.0f MB of weights per token at %.1f GB/s (large sgemv) = %.1f ms; ours %.1f ms per token (%.0f%% above)",
                     weightBytes / 1e6, median(decodeRuns.map(\.bandwidth)) / 1e9, median(bound) * 1e3, median(perToken) * 1e3,
                     (median(zip(perToken, bound).map { $0 / $1 }) - 1) * 100))
    }

    /// One vision run's timings (seconds).
    struct VisionRun {
        var torch: Double?, torchInt8: Double?
        var ours = 0.0, gemm = 0.0, int8 = 0.0, int8Matmuls = 0.0
    }

    /// One decode run's timings (seconds; bandwidth in bytes per second).
    struct DecodeRun {
        var torchGenerate: Double?, torchPrefill: Double?
        var generate = 0.0, prefill = 0.0, halfGenerate = 0.0, halfPrefill = 0.0, gemv = 0.0, bandwidth = 0.0
        var int8Generate = 0.0, int8Prefill = 0.0, q4Generate = 0.0, q4Prefill = 0.0
        /// Seconds per generated token after the prompt (31 tokens follow the prompt's).
        var perToken: Double { (generate - prefill) / 31 }
        var halfPerToken: Double { (halfGenerate - halfPrefill) / 31 }
        var int8PerToken: Double { (int8Generate - int8Prefill) / 31 }
        var q4PerToken: Double { (q4Generate - q4Prefill) / 31 }
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
}

/// The rate a large sgemv streams weights at: a 400 MB matrix (no cache holds it) times a vector.
final class StreamingProbe {
    let rows = 25_000, columns = 4096
    let matrix: [Float]
    let x: [Float]
    var y: [Float]

    init() {
        matrix = [Float](repeating: 0.001, count: rows * columns)
        x = [Float](repeating: 1, count: columns)
        y = [Float](repeating: 0, count: rows)
    }

    /// Bytes per second of the faster of two passes.
    func bytesPerSecond() -> Double {
        var best = Double.infinity
        for _ in 0..<2 {
            best = min(best, Stopwatch.seconds {
                BLAS.gemm(transA: false, transB: true, m: 1, n: rows, k: columns, a: x, lda: columns, b: matrix,
                          ldb: columns, c: &y, ldc: rows)
            })
        }
        return Double(rows * columns * 4) / best
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
