import Foundation

/// The n best finished hypotheses of a beam search, as Hugging Face
/// transformers 4.33 keeps them (generation/beam_search.py `BeamHypotheses`):
/// score = sum_logprobs / len(hyp)^length_penalty, worst score tracked, and
/// the early_stopping=False "is done" heuristic.
struct BeamHypotheses {
    let capacity: Int
    let lengthPenalty: Double
    private(set) var beams: [(score: Double, tokens: [Int])] = []
    private var worstScore = 1e9

    init(capacity: Int, lengthPenalty: Double) {
        self.capacity = capacity
        self.lengthPenalty = lengthPenalty
    }

    mutating func add(_ tokens: [Int], sumLogprobs: Double) {
        let score = sumLogprobs / pow(Double(tokens.count), lengthPenalty)
        guard beams.count < capacity || score > worstScore else { return }
        beams.append((score, tokens))
        if beams.count > capacity {
            // Python's sorted() over (score, index): ties keep the lower index first.
            let order = beams.indices.sorted { (beams[$0].score, $0) < (beams[$1].score, $1) }
            beams.remove(at: order[0])
            worstScore = beams.map(\.score).min() ?? score
            // sorted_next_scores[1][0] is the second-worst before removal, i.e. the worst now.
        } else {
            worstScore = min(score, worstScore)
        }
    }

    func isDone(bestSumLogprobs: Double, currentLength: Int) -> Bool {
        guard beams.count >= capacity else { return false }
        return worstScore >= bestSumLogprobs / pow(Double(currentLength), lengthPenalty)
    }

    /// The best hypothesis: the highest score, the last added among equals
    /// (Python's stable sort, then pop()).
    var best: [Int]? {
        guard var top = beams.first else { return nil }
        for beam in beams.dropFirst() where beam.score >= top.score { top = beam }
        return top.tokens
    }
}
