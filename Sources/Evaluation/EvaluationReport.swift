import Foundation

/// What `flamingo eval` measures (keys mirror Training/train.py's eval_report.json).
public struct EvaluationReport: Codable, Sendable {
    public struct Accuracy: Codable, Sendable {
        public var accuracy: Double
        public var count: Int

        public init(correct: Int, count: Int) {
            self.count = count
            accuracy = count == 0 ? 0 : Double(correct) / Double(count)
        }
    }

    /// Direction accuracy on moving objects and colour accuracy, over every such question.
    public struct Temporal: Codable, Sendable {
        public var directionMoving: Accuracy
        public var color: Accuracy

        public init(directionMoving: Accuracy, color: Accuracy) {
            self.directionMoving = directionMoving
            self.color = color
        }

        enum CodingKeys: String, CodingKey {
            case directionMoving = "direction_moving"
            case color
        }
    }

    public struct Mistake: Codable, Sendable {
        public var clip: String
        public var prompt: String
        public var expected: String
        public var predicted: String
    }

    public var dataset: String
    public var model: String
    public var clips: Int
    /// Whether the main metrics were measured with the resampler's `frame_embs` zeroed.
    public var zeroTemporalEmbeddings: Bool
    public var questions: Accuracy
    public var questionsPerType: [String: Accuracy]
    public var captions: Accuracy
    /// Few-shot task inference (Answer form) by number of support clips.
    public var fewShotByShots: [String: Accuracy]
    /// Few-shot episodes whose support items are of the Question form.
    public var fewShotQuestionForm: Accuracy?
    public var temporalWith: Temporal
    public var temporalZeroed: Temporal
    public var bars: [QualityBars.Result]
    public var mistakes: [Mistake]
    public var seconds: Double
    /// The clips' in-domain checks (docs/MODEL.md, "In-domain score"); nil when the model has no statistics.
    public var domain: Domain?

    public struct Domain: Codable, Sendable {
        /// Clips scored at or under the threshold.
        public var inDomain: Accuracy
        public var threshold: Double
        /// The clips' scores at the 50th, 90th and 99th percentiles and the largest.
        public var scoreQuantiles: [Double]
        enum CodingKeys: String, CodingKey { case inDomain = "in_domain", threshold, scoreQuantiles = "score_quantiles" }
    }

    public var passed: Bool { bars.allSatisfy(\.passed) }

    public init(dataset: String, model: String, clips: Int, zeroTemporalEmbeddings: Bool, questions: Accuracy,
                questionsPerType: [String: Accuracy], captions: Accuracy, fewShotByShots: [String: Accuracy],
                fewShotQuestionForm: Accuracy?, temporalWith: Temporal, temporalZeroed: Temporal,
                bars: [QualityBars.Result], mistakes: [Mistake], seconds: Double) {
        self.dataset = dataset
        self.model = model
        self.clips = clips
        self.zeroTemporalEmbeddings = zeroTemporalEmbeddings
        self.questions = questions
        self.questionsPerType = questionsPerType
        self.captions = captions
        self.fewShotByShots = fewShotByShots
        self.fewShotQuestionForm = fewShotQuestionForm
        self.temporalWith = temporalWith
        self.temporalZeroed = temporalZeroed
        self.bars = bars
        self.mistakes = mistakes
        self.seconds = seconds
    }

    enum CodingKeys: String, CodingKey {
        case dataset, model, clips, questions, captions, bars, mistakes, seconds, domain
        case zeroTemporalEmbeddings = "zero_temporal_embeddings"
        case questionsPerType = "questions_per_type"
        case fewShotByShots = "few_shot_by_shots"
        case fewShotQuestionForm = "few_shot_question_form"
        case temporalWith = "temporal_with"
        case temporalZeroed = "temporal_zeroed"
    }

    /// A plain-text table for the terminal.
    public var text: String {
        func pct(_ a: Accuracy) -> String { String(format: "%6.2f%%  (n = %d)", 100 * a.accuracy, a.count) }
        var lines = ["dataset  \(dataset)", "model    \(model)",
                     "clips    \(clips)\(zeroTemporalEmbeddings ? "  (temporal embeddings zeroed)" : "")", "",
                     "questions, overall      \(pct(questions))"]
        for (type, a) in questionsPerType.sorted(by: { $0.key < $1.key }) {
            lines.append("  \(type.padding(toLength: 22, withPad: " ", startingAt: 0))\(pct(a))")
        }
        lines.append("captions, exact match   \(pct(captions))")
        if !fewShotByShots.isEmpty {
            lines.append("few-shot task inference")
            for (k, a) in fewShotByShots.sorted(by: { Int($0.key) ?? 0 < Int($1.key) ?? 0 }) {
                lines.append("  \(k) shot(s)".padding(toLength: 24, withPad: " ", startingAt: 0) + pct(a))
            }
        }
        if let q = fewShotQuestionForm { lines.append("few-shot, question form \(pct(q))") }
        lines.append("temporal embeddings     direction (moving)          color")
        for (name, t) in [("as trained", temporalWith), ("zeroed", temporalZeroed)] {
            lines.append("  \(name.padding(toLength: 22, withPad: " ", startingAt: 0))\(pct(t.directionMoving))   \(pct(t.color))")
        }
        if let domain {
            lines.append(String(format: "in domain               %@   (threshold %.2f; scores: median %.2f, 90%% %.2f, 99%% %.2f, max %.2f)",
                                pct(domain.inDomain) as NSString, domain.threshold, domain.scoreQuantiles[0], domain.scoreQuantiles[1],
                                domain.scoreQuantiles[2], domain.scoreQuantiles[3]))
        }
        lines.append("")
        for bar in bars {
            lines.append("\(bar.passed ? "pass" : "FAIL")  \(bar.name): \(String(format: "%.2f%%", 100 * bar.value)) \(bar.comparison) \(String(format: "%.0f%%", 100 * bar.threshold))")
        }
        lines.append(String(format: "%.1f s", seconds))
        return lines.joined(separator: "\n")
    }
}
