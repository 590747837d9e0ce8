/// The shipped model's quality bars (docs/WORLD.md §Quality bars).
public enum QualityBars {
    public struct Result: Codable, Sendable {
        public var name: String
        public var value: Double
        /// ">=" or "<=".
        public var comparison: String
        public var threshold: Double
        public var passed: Bool
    }

    static func atLeast(_ name: String, _ value: Double, _ threshold: Double) -> Result {
        Result(name: name, value: value, comparison: ">=", threshold: threshold, passed: value >= threshold)
    }

    static func atMost(_ name: String, _ value: Double, _ threshold: Double) -> Result {
        Result(name: name, value: value, comparison: "<=", threshold: threshold, passed: value <= threshold)
    }

    /// The bars checked on a report's numbers.
    public static func check(_ r: EvaluationReport) -> [Result] {
        var out = [atLeast("questions overall", r.questions.accuracy, 0.97)]
        for (type, a) in r.questionsPerType.sorted(by: { $0.key < $1.key }) {
            out.append(atLeast("questions: \(type)", a.accuracy, 0.93))
        }
        out.append(atLeast("captions exact match", r.captions.accuracy, 0.90))
        // A set without 4-shot episodes cannot show the bar is met.
        out.append(atLeast("few-shot task inference, 4 shots", r.fewShotByShots["4"]?.accuracy ?? 0, 0.90))
        out.append(atMost("direction on moving objects, temporal embeddings zeroed", r.temporalZeroed.directionMoving.accuracy, 0.65))
        out.append(atLeast("color, temporal embeddings zeroed", r.temporalZeroed.color.accuracy, 0.95))
        return out
    }
}
