import CFFmpeg

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

    /// Demuxers that may open a file (`MediaCatalogue.containers`). Matching is
    /// per comma-separated part of the demuxer name, as FFmpeg's own
    /// `format_whitelist` does, so `mov` covers mp4/m4v/3gp and `matroska`
    /// covers webm. Playlists, concat scripts, image sequences and network
    /// formats are never on it (`MediaCatalogue.neverAllowedFormats`).
    public var allowedFormats: [String] = MediaCatalogue.formatNames

    /// Decoders (by FFmpeg decoder name) that may run on a file's video stream
    /// (`MediaCatalogue.codecs`).
    public var allowedDecoders: [String] = MediaCatalogue.decoderNames

    public init() {}
}

extension VideoReaderLimits {
    /// These limits with demuxers and decoders added to or removed from the
    /// allow-lists (`--allow-format`, `--deny-codec`, ...; denials win).
    /// Every name must be one FFmpeg knows; formats that open other files or
    /// the network (`MediaCatalogue.neverAllowedFormats`) cannot be allowed.
    public func adjusted(
        allowFormats: [String] = [], denyFormats: [String] = [], allowCodecs: [String] = [], denyCodecs: [String] = []
    ) throws(VideoIOError) -> VideoReaderLimits {
        var limits = self
        for name in allowFormats {
            if let reason = MediaCatalogue.neverAllowedFormats[name] {
                throw .invalidOptions(reason: "format '\(name)' is never opened: \(reason)")
            }
        }
        for name in allowFormats + denyFormats {
            guard av_find_input_format(name) != nil else {
                throw .invalidOptions(reason: "'\(name)' is not an FFmpeg demuxer (`flamingo formats` lists the accepted ones, `ffmpeg -demuxers` all of FFmpeg's)")
            }
        }
        for name in allowCodecs + denyCodecs where avcodec_find_decoder_by_name(name) == nil {
            throw .invalidOptions(reason: "'\(name)' is not an FFmpeg decoder (`flamingo formats` lists the accepted ones, `ffmpeg -decoders` all of FFmpeg's)")
        }
        limits.allowedFormats = (limits.allowedFormats + allowFormats.filter { !limits.allowedFormats.contains($0) })
            .filter { !denyFormats.contains($0) }
        limits.allowedDecoders = (limits.allowedDecoders + allowCodecs.filter { !limits.allowedDecoders.contains($0) })
            .filter { !denyCodecs.contains($0) }
        return limits
    }
}
