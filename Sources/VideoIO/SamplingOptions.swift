/// What to sample from a video and at which resolution.
public struct SamplingOptions: Sendable, Equatable {
    /// Samples per second of presentation time (t_k = k / fps).
    public var fps: Double = 1
    /// Upper bound on the number of samples; when there would be more, the
    /// samples are spread evenly over the content instead (t_i = i * duration
    /// / maxFrames without gaps; `ContentTimeline.sampleTimes`).
    public var maxFrames: Int? = nil
    /// Side R of the square frames handed to the vision encoder.
    public var size: Int = 224

    public init(fps: Double = 1, maxFrames: Int? = nil, size: Int = 224) {
        self.fps = fps
        self.maxFrames = maxFrames
        self.size = size
    }

    public func validate() throws(VideoIOError) {
        guard fps.isFinite, fps > 0, fps <= 240 else {
            throw .invalidOptions(reason: "fps must be in (0, 240], got \(fps)")
        }
        if let maxFrames, maxFrames < 1 {
            throw .invalidOptions(reason: "max frames must be at least 1, got \(maxFrames)")
        }
        guard (8...4096).contains(size) else {
            throw .invalidOptions(reason: "size must be between 8 and 4096 pixels, got \(size)")
        }
    }
}
