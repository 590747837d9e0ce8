import ArgumentParser
import Generation

/// Decoding flags shared by `caption` and `ask`.
struct DecodingOptions: ParsableArguments {
    @Option(help: "Beams for beam search (1: greedy).")
    var beams: Int = DecodingDefaults.beams

    @Option(help: "Tokens to generate at most (generation stops earlier at <|endofchunk|>).")
    var maxTokens: Int = DecodingDefaults.maxNewTokens

    func validate() throws {
        guard beams >= 1 else { throw ValidationError("--beams must be at least 1") }
        if maxTokens < 1 { throw ValidationError("--max-tokens must be at least 1") }
    }

    /// The same defaults as a pipeline without a `decoding` block (`DecodingDefaults`).
    var options: GenerationOptions {
        GenerationOptions(maxNewTokens: maxTokens, numBeams: beams, lengthPenalty: DecodingDefaults.lengthPenalty)
    }
}
