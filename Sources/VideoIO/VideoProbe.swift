/// What a video is, as the reader found it (container claims and packet facts).
public struct VideoProbe: Codable, Sendable, Equatable {
    public var path: String
    /// FFmpeg demuxer name (for example "mov,mp4,m4a,3gp,3g2,mj2").
    public var container: String
    /// FFmpeg decoder name (for example "h264").
    public var codec: String
    /// Coded picture size, in pixels.
    public var width: Int
    public var height: Int
    /// Size as displayed: sample aspect ratio applied, then rotation.
    public var displayWidth: Int
    public var displayHeight: Int
    /// Display aspect ratio, reduced ("16:9").
    public var displayAspectRatio: String
    /// Sample (pixel) aspect ratio ("1:1", "4:3").
    public var sampleAspectRatio: String
    /// Clockwise rotation in degrees (0, 90, 180, 270) applied so frames come out upright.
    public var rotation: Int
    /// From the first frame's presentation time to the end of the last frame, in seconds.
    public var durationSeconds: Double
    /// What the container header claims, if anything.
    public var declaredDurationSeconds: Double?
    /// Average frame rate, frames per second, when known.
    public var frameRate: Double?
    /// Frames in the stream (visible frames counted from packets), when known.
    public var frameCount: Int?
    /// Presentation time of the first frame on the file's own timeline, in seconds.
    public var startTimeSeconds: Double
    /// The stream's time base ("1/15360").
    public var timeBase: String
    public var pixelFormat: String
    public var bitsPerComponent: Int
    public var interlaced: Bool
    public var keyframeCount: Int

    enum CodingKeys: String, CodingKey {
        case path, container, codec, width, height
        case displayWidth = "display_width"
        case displayHeight = "display_height"
        case displayAspectRatio = "display_aspect_ratio"
        case sampleAspectRatio = "sample_aspect_ratio"
        case rotation
        case durationSeconds = "duration_s"
        case declaredDurationSeconds = "declared_duration_s"
        case frameRate = "frame_rate"
        case frameCount = "frame_count"
        case startTimeSeconds = "start_time_s"
        case timeBase = "time_base"
        case pixelFormat = "pixel_format"
        case bitsPerComponent = "bits_per_component"
        case interlaced
        case keyframeCount = "keyframe_count"
    }
}
