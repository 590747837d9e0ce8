import VideoIO

/// One media item of a prompt: an image (1 frame) or a video's sampled
/// frames, preprocessed for the vision encoder.
public struct MediaItem: Sendable {
    public var path: String
    /// (frames, 3, R, R), normalised with the model's mean/std.
    public var pixels: [Float]
    public var frames: [SampledFrame]
    public var probe: VideoProbe
    public var warnings: [String]
}
