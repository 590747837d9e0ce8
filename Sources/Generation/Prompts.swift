/// The prompt conventions the shipped model was trained with (OpenFlamingo's
/// evaluation prompts; docs/WORLD.md §Prompts). Each media
/// item is one `<image>`; an answer ends with `<|endofchunk|>`.
public enum Prompts {
    /// `<image>Caption:` → ` a red circle moving left.<|endofchunk|>`
    public static let caption = "<image>Caption:"
    /// The few-shot task-inference item: `<image>Answer:` → ` red<|endofchunk|>`
    public static let answer = "<image>Answer:"

    /// `<image>Question: {question} Short answer:` → ` {answer}<|endofchunk|>`
    public static func question(_ question: String) -> String {
        "<image>Question: \(question) Short answer:"
    }

    /// A completed item (prompt plus answer) for a few-shot prefix.
    public static func shot(_ prompt: String, answer: String) -> String {
        "\(prompt) \(answer)\(FlamingoSession.endOfChunk)"
    }
}
