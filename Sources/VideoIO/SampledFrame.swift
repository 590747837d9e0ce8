/// One sampled frame: which sample it answers and which picture was on screen.
public struct SampledFrame: Codable, Sendable, Equatable {
    /// Position in the sample sequence (0, 1, ...).
    public var index: Int
    /// The sample time t_k, in seconds from the first frame.
    public var timeSeconds: Double
    /// Presentation time of the frame shown at t_k, in seconds from the first frame.
    public var frameTimeSeconds: Double
    /// That frame's presentation timestamp, in the stream's time base.
    public var pts: Int64
    /// Whether that frame was a keyframe.
    public var isKeyframe: Bool

    enum CodingKeys: String, CodingKey {
        case index
        case timeSeconds = "time_s"
        case frameTimeSeconds = "frame_time_s"
        case pts
        case isKeyframe = "keyframe"
    }
}
