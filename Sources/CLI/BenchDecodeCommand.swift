import ArgumentParser
import Foundation
import Model

/// `flamingo bench decode`: the language model's two speeds on any model directory, the figures
/// llama.cpp's `llama-bench -p 64 -n 32` reports: prompt tokens per second (a 64-token prompt in
/// one forward pass) and milliseconds per generated token (32 greedy tokens with the KV cache after
/// it), with the bytes of weights a token streams and the time they take at the rate a large sgemv
/// streams memory, measured in the same run.
struct BenchDecodeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "decode",
        abstract: "Prompt tokens/s and decode ms/token of a model's language model (64-token prompt, 32 greedy tokens).")

    @OptionGroup var modelOption: ModelOption

    @Option(help: "Prompt tokens (random ids, no media).")
    var prompt: Int = 64

    @Option(help: "Generated tokens after the prompt.")
    var tokens: Int = 32

    @Option(help: "Timed runs (median [min-max]).")
    var runs: Int = 3

    func run() async throws {
        let directory = try modelOption.directory
        let model = try CLIError.reporting { try FlamingoModel.load(directory: directory) }
        let lm = model.configuration.languageModel
        guard prompt >= 1, tokens >= 2, prompt + tokens <= lm.maxSeqLen else {
            throw ValidationError("--prompt + --tokens must be at most the model's max_seq_len (\(lm.maxSeqLen)), --prompt >= 1, --tokens >= 2")
        }
        var rng = SplitMix(seed: 7)
        let ids = (0..<prompt).map { _ in Int(rng.next() % UInt64(lm.vocabSize)) }
        let memory = model.mediaMemory([])
        let streaming = StreamingProbe()
        try BenchEngineCommand.greedy(model, prompt: ids, media: memory, tokens: tokens)  // warm-up
        var prefill: [Double] = [], perToken: [Double] = [], bandwidth: [Double] = []
        for _ in 0..<max(1, runs) {
            let p = try Stopwatch.settledSeconds { try BenchEngineCommand.greedy(model, prompt: ids, media: memory, tokens: 1) }
            let all = try Stopwatch.settledSeconds { try BenchEngineCommand.greedy(model, prompt: ids, media: memory, tokens: tokens) }
            prefill.append(p)
            perToken.append((all - p) / Double(tokens - 1))
            bandwidth.append(streaming.bytesPerSecond())
        }
        let median = Stopwatch.median
        func spread(_ v: [Double], _ scale: Double, _ format: String) -> String {
            String(format: "\(format) [\(format)-\(format)]", median(v) * scale, (v.min() ?? 0) * scale, (v.max() ?? 0) * scale)
        }
        let bytes = Double(model.languageModelBytesPerToken)
        print("decode benchmark: \(directory.path) (\(model.weightsDescription)), \(prompt)-token prompt, \(tokens) greedy tokens, "
              + "\(max(1, runs)) run(s), median [min-max]")
        print("prompt: \(spread(prefill.map { Double(prompt) / $0 }, 1, "%.1f")) tokens/s")
        print("decode: \(spread(perToken, 1e3, "%.2f")) ms/token")
        print(String(format: "limit: %.0f MB of weights per token at %.1f GB/s (large sgemv, same run) = %.2f ms; decode is %.0f%% above",
                     bytes / 1e6, median(bandwidth) / 1e9, bytes / median(bandwidth) * 1e3,
                     (median(zip(perToken, bandwidth).map { $0 / (bytes / $1) }) - 1) * 100))
    }
}
