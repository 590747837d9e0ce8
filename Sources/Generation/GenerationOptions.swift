/// How to decode an open-ended answer.
public struct GenerationOptions: Sendable, Equatable {
    /// Tokens to generate at most (the stop token included).
    public var maxNewTokens: Int = 20
    /// 1: greedy; more: beam search with this many beams.
    public var numBeams: Int = 1
    /// Beam scores are sum(log p) / length^lengthPenalty (length counts the prompt, as Hugging Face does).
    public var lengthPenalty: Double = 1.0

    public init(maxNewTokens: Int = 20, numBeams: Int = 1, lengthPenalty: Double = 1.0) {
        self.maxNewTokens = maxNewTokens
        self.numBeams = numBeams
        self.lengthPenalty = lengthPenalty
    }
}
