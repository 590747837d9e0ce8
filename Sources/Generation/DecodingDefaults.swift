/// The one set of decoding defaults for every command and pipeline
/// (`flamingo caption`, `ask`, `generate`, and pipelines without a `decoding`
/// block), so a sidecar and the CLI give the same text for the same video:
/// greedy, which is what `flamingo eval` measures the quality bars with, and
/// up to 48 tokens, room for the longest caption of docs/WORLD.md;
/// generation stops earlier at `<|endofchunk|>`.
public enum DecodingDefaults {
    public static let beams = 1
    public static let maxNewTokens = 48
    /// Beam scores are sum(log p) / length^lengthPenalty; no effect when greedy.
    public static let lengthPenalty = 0.0
}
