import Foundation
import Model
import Tensor

/// Open-ended decoding (greedy, beam search) and closed-ended scoring on a
/// Flamingo model, with the visual conditioning computed once per prompt and
/// the self-attention KV cache making each new token cost one row.
/// Beam search reproduces Hugging Face transformers 4.33 `beam_search`
/// (early_stopping=False) token for token; `<image>` and pad are suppressed
/// as OpenFlamingo's generation needs (docs/MODEL.md §Gated cross-attention, §Generation).
public struct Decoder: Sendable {
    public let model: FlamingoModel

    public init(model: FlamingoModel) { self.model = model }

    var stopToken: Int { model.configuration.specialTokens.endOfChunk }
    var suppressed: [Int] { [model.configuration.specialTokens.media, model.configuration.specialTokens.pad] }

    /// The continuation of `prompt` (token ids, `<image>` marking each media
    /// item), ending with `<|endofchunk|>` when the model produced it.
    /// At most `options.maxNewTokens` tokens, and no more than the context has room for after the
    /// prompt ("up to N tokens": a long prompt on a short-context model gets fewer, not an error).
    public func generate(prompt: [Int], media: FlamingoModel.MediaMemory, options requested: GenerationOptions) throws(ModelError) -> [Int] {
        var options = requested
        options.maxNewTokens = min(options.maxNewTokens, max(1, model.configuration.languageModel.maxSeqLen - prompt.count))
        guard options.maxNewTokens >= 1 else { return [] }
        guard options.numBeams >= 1 else { throw .invalidInput("num_beams must be at least 1") }
        var state = model.makeState(capacity: min(model.configuration.languageModel.maxSeqLen, prompt.count + options.maxNewTokens))
        let first = try model.forward(tokens: prompt, state: &state, media: media).logits
        return options.numBeams == 1
            ? try greedy(first: first, state: state, media: media, options: options)
            : try beamSearch(prompt: prompt, first: first, state: state, media: media, options: options)
    }

    private func greedy(first: [Float], state: FlamingoModel.DecoderState, media: FlamingoModel.MediaMemory,
                        options: GenerationOptions) throws(ModelError) -> [Int] {
        var state = state, logits = first, out: [Int] = []
        while out.count < options.maxNewTokens {
            for t in suppressed { logits[t] = -.infinity }
            var best = 0
            for i in 1..<logits.count where logits[i] > logits[best] { best = i }  // first max, as torch.argmax
            out.append(best)
            if best == stopToken || out.count == options.maxNewTokens { break }
            logits = try model.forward(tokens: [best], state: &state, media: media).logits
        }
        return out
    }

    private func beamSearch(prompt: [Int], first: [Float], state: FlamingoModel.DecoderState,
                            media: FlamingoModel.MediaMemory, options: GenerationOptions) throws(ModelError) -> [Int] {
        let beams = options.numBeams, vocab = first.count
        let maxLength = prompt.count + options.maxNewTokens
        var states = Array(repeating: state, count: beams)
        var logits = Array(repeating: first, count: beams)
        var sequences = Array(repeating: prompt, count: beams)
        // Only the first beam is live at the start (the others are copies).
        var beamScores = [Double](repeating: -1e9, count: beams)
        beamScores[0] = 0
        var hypotheses = BeamHypotheses(capacity: beams, lengthPenalty: options.lengthPenalty)
        var done = false
        var scores = [Float](repeating: 0, count: vocab)
        while true {
            // Candidates: log_softmax + suppression + running beam score, top 2·beams.
            var candidates: [(score: Double, beam: Int, token: Int)] = []
            candidates.reserveCapacity(beams * vocab)
            for b in 0..<beams {
                logits[b].withUnsafeBufferPointer { lp in
                    scores.withUnsafeMutableBufferPointer { sp in
                        Ops.logSoftmax(lp.baseAddress!, count: vocab, into: sp.baseAddress!)
                    }
                }
                for t in suppressed { scores[t] = -.infinity }
                for t in 0..<vocab { candidates.append((Double(scores[t]) + beamScores[b], b, t)) }
            }
            // torch.topk(sorted=True) over the flattened (beam, token) index; ties by lower index.
            let top = Array(candidates.sorted { $0.score != $1.score ? $0.score > $1.score : ($0.beam, $0.token) < ($1.beam, $1.token) }
                .prefix(2 * beams))
            var next: [(score: Double, beam: Int, token: Int)] = []
            for (rank, c) in top.enumerated() {
                if c.token == stopToken {
                    if rank >= beams { continue }
                    hypotheses.add(sequences[c.beam], sumLogprobs: c.score)
                } else {
                    next.append(c)
                }
                if next.count == beams { break }
            }
            guard next.count == beams else { throw .invalidInput("beam search ran out of candidates") }
            done = done || hypotheses.isDone(bestSumLogprobs: top[0].score, currentLength: sequences[0].count + 1)
            sequences = next.map { sequences[$0.beam] + [$0.token] }
            states = next.map { states[$0.beam] }
            beamScores = next.map(\.score)
            if done || sequences[0].count >= maxLength { break }
            for b in 0..<beams {
                logits[b] = try model.forward(tokens: [next[b].token], state: &states[b], media: media).logits
            }
        }
        if !done {
            for b in 0..<beams { hypotheses.add(sequences[b], sumLogprobs: beamScores[b]) }
        }
        guard var best = hypotheses.best else { return [] }
        if best.count < maxLength { best.append(stopToken) }
        return Array(best.dropFirst(prompt.count))
    }

    /// Closed-ended scoring: for each option, the summed log-probability of its
    /// tokens following `prompt`. The prompt is run once; each option continues
    /// from a copy of its cache.
    public func score(prompt: [Int], options: [[Int]], media: FlamingoModel.MediaMemory) throws(ModelError) -> [Double] {
        let longest = options.map(\.count).max() ?? 0
        var state = model.makeState(capacity: min(model.configuration.languageModel.maxSeqLen, prompt.count + longest))
        let last = try model.forward(tokens: prompt, state: &state, media: media).logits
        let vocab = last.count
        var results: [Double] = []
        var logp = [Float](repeating: 0, count: vocab)
        for option in options {
            guard !option.isEmpty else { throw .invalidInput("an option has no tokens") }
            var s = state
            var rows = last
            if option.count > 1 {
                rows += try model.forward(tokens: Array(option.dropLast()), state: &s, media: media, allLogits: true).logits
            }
            var total = 0.0
            for (i, token) in option.enumerated() {
                rows.withUnsafeBufferPointer { rp in
                    logp.withUnsafeMutableBufferPointer { Ops.logSoftmax(rp.baseAddress! + i * vocab, count: vocab, into: $0.baseAddress!) }
                }
                total += Double(logp[token])
            }
            results.append(total)
        }
        return results
    }
}
