/// Runs the pre-tokenizer stages over one piece of normalized text and says how the
/// resulting words must reach the model.
///
/// `ByteLevel` in the Rust library both splits and rewrites every piece into the byte-level
/// alphabet. A stage after it sees rewritten text, so the rewrite is done eagerly there; when
/// `ByteLevel` is the last stage the rewrite is left pending and the model maps raw UTF-8
/// bytes to ids directly (`BPEModel.appendByteLevelTokens`).
struct PreTokenizerPipeline: Sendable {
    private let stages: [PreTokenizer]
    /// Set when the whole pre-tokenizer is a single `ByteLevel` stage: the fast path.
    let soleByteLevel: ByteLevelPreTokenizer?

    init(_ preTokenizer: PreTokenizer?) {
        stages = preTokenizer?.flattened ?? []
        if stages.count == 1, case let .byteLevel(byteLevel) = stages[0] {
            soleByteLevel = byteLevel
        } else {
            soleByteLevel = nil
        }
    }

    /// The words of `piece`; `byteLevelPending` tells that they still need the byte-level rewrite.
    func words(in piece: Substring) -> (words: [Substring], byteLevelPending: Bool) {
        var words = piece.isEmpty ? [] : [piece]
        var pending = false
        for stage in stages {
            if pending {
                words = words.map { Substring(ByteLevelAlphabet.encode($0.utf8)) }
                pending = false
            }
            words = words.flatMap { stage.split($0) }
            if case .byteLevel = stage { pending = true }
        }
        return (words, pending)
    }
}
