/// What to sample from a video and at which resolution.
public struct SamplingOptions: Sendable, Equatable {
    /// Samples per second of presentation time (t_k = k / fps).
    public var fps: Double = 1
    /// Upper bound on the number of samples; when the video is longer than
    /// `maxFrames / fps` seconds, the samples are spread evenly over the
    /// whole duration instead (t_i = i * duration / maxFrames).
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

    /// Sample times in seconds from the first frame, for a video lasting
    /// `duration` seconds: k / fps for every k with k / fps < duration, or
    /// `maxFrames` times spread evenly when that is fewer. A video with no
    /// measurable duration (a still image) gets the single time 0.
    public func sampleTimes(duration: Double) -> [Double] {
        guard duration.isFinite, duration > 0 else { return [0] }
        var times: [Double] = []
        var k = 0
        while Double(k) / fps < duration {
            if let maxFrames, times.count >= maxFrames {
                return (0..<maxFrames).map { Double($0) * duration / Double(maxFrames) }
            }
            times.append(Double(k) / fps)
            k += 1
        }
        return times.isEmpty ? [0] : times
    }
}
