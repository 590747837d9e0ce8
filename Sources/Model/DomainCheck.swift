/// A media item's in-domain score against a model's DomainStatistics (docs/MODEL.md, "In-domain score").
public struct DomainCheck: Sendable, Equatable {
    /// The median over its frames of their distances from the training frames' statistics.
    public var score: Float
    /// The distance at the statistics' percentile of their calibration frames.
    public var threshold: Float
    public var inDomain: Bool { score <= threshold }

    public init(score: Float, threshold: Float) {
        self.score = score
        self.threshold = threshold
    }
}
