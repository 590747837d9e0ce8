/// Resource limits for reading one untrusted file. Defaults suit a watch
/// folder on a small server; every one of them is enforced by the reader
/// itself, not left to FFmpeg's own defaults.
public struct VideoReaderLimits: Sendable, Equatable {
    /// Largest file accepted, in bytes.
    public var maxFileBytes: Int64 = 16 << 30
    /// Longest presentation time accepted, in seconds, checked against the
    /// container's claim and against the packets' own timestamps.
    public var maxDurationSeconds: Double = 4 * 3600
    /// Largest width or height, in pixels.
    public var maxDimension: Int = 8192
    /// Largest width x height, in pixels (passed to the decoder as max_pixels).
    public var maxPixels: Int = 8192 * 4320
    /// Most video packets read from one file.
    public var maxPackets: Int = 2_000_000
    /// Most streams a container may declare.
    public var maxStreams: Int = 16
    /// Wall-clock deadline for the whole read, in seconds.
    public var deadlineSeconds: Double = 1800
    /// Bytes FFmpeg may read to detect the format and streams.
    public var probeBytes: Int = 5_000_000
    /// Microseconds of media FFmpeg may analyse to find stream parameters.
    public var analyzeDurationMicroseconds: Int = 5_000_000
    /// Decoder threads (frame threading); 1 disables threading.
    public var decoderThreads: Int = 2
    /// Whether a path whose last component is a symbolic link is opened.
    public var followSymbolicLinks: Bool = false

    /// Demuxers that may open a file. Matching is per comma-separated part of
    /// the demuxer name, as FFmpeg's own `format_whitelist` does, so `mov`
    /// covers mp4/m4v/3gp and `matroska` covers webm. hls, dash, concat and
    /// image2 (which opens other files by pattern) are deliberately absent.
    public var allowedFormats: [String] = [
        "mov", "matroska", "avi", "mpegts", "flv", "ogg", "mxf",
        "png_pipe", "jpeg_pipe", "webp_pipe",
    ]

    /// Decoders (by FFmpeg decoder name) that may run on a file's video stream.
    public var allowedDecoders: [String] = [
        "h264", "hevc", "vp8", "vp9", "libdav1d", "av1", "mpeg4", "mpeg1video", "mpeg2video",
        "mjpeg", "png", "webp", "theora", "flv", "h263", "prores", "dnxhd", "ffv1", "rawvideo",
    ]

    public init() {}
}
