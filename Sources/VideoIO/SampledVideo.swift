/// The frames a video gives the model: `frames.count` pictures of
/// `size` x `size` RGB24, in sample order, plus what the reader found.
public struct SampledVideo: Sendable {
    public var probe: VideoProbe
    public var frames: [SampledFrame]
    public var size: Int
    /// (frames, size, size, 3) RGB24, row-major.
    public var rgb: [UInt8]
    /// Problems that did not stop the read (truncation, undecodable packets).
    public var warnings: [String]
    /// What decoding took (packets sent, frames decoded, runs, threads).
    public var statistics: SamplingReport.Statistics

    /// One frame's RGB24 pixels, (size, size, 3).
    public func rgb(frame i: Int) -> ArraySlice<UInt8> {
        let n = size * size * 3
        return rgb[(i * n)..<((i + 1) * n)]
    }

    /// The vision encoder's input: (frames, 3, size, size) float32,
    /// (x / 255 - mean[c]) / std[c] per channel.
    public func normalizedPixels(_ config: PreprocessingConfig = .clip) -> [Float] {
        normalizedPixels(frames: Array(frames.indices), config)
    }

    /// The same for some of the frames only (in the order given): long videos
    /// keep only their small RGB copy in memory, never all frames as floats.
    public func normalizedPixels(frames selected: [Int], _ config: PreprocessingConfig = .clip) -> [Float] {
        let plane = size * size
        var out = [Float](repeating: 0, count: selected.count * 3 * plane)
        let scale = (0..<3).map { 1 / (255 * config.std[$0]) }
        let shift = (0..<3).map { -config.mean[$0] / config.std[$0] }
        rgb.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for (i, f) in selected.enumerated() {
                    let s = f * plane * 3
                    let d = i * plane * 3
                    for c in 0..<3 {
                        let a = scale[c], b = shift[c]
                        let o = d + c * plane
                        for p in 0..<plane {
                            dst[o + p] = Float(src[s + p * 3 + c]) * a + b
                        }
                    }
                }
            }
        }
        return out
    }
}
