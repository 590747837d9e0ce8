import ArgumentParser
import Generation

/// Decoding flags shared by `caption` and `ask`.
struct DecodingOptions: ParsableArguments {
    @Option(help: "Beams for beam search (1: greedy).")
    var beams: Int = 1

    @Option(help: "Tokens to generate at most (default: 48 for a caption, 8 for an answer).")
    var maxTokens: Int?

    func validate() throws {
        guard beams >= 1 else { throw ValidationError("--beams must be at least 1") }
        if let maxTokens, maxTokens < 1 { throw ValidationError("--max-tokens must be at least 1") }
    }

    func options(maxTokens fallback: Int) -> GenerationOptions {
        GenerationOptions(maxNewTokens: maxTokens ?? fallback, numBeams: beams, lengthPenalty: 0)
    }
}
