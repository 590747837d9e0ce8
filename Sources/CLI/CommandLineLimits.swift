import VideoIO

extension VideoReaderLimits {
    /// Limits for a path the user typed: symbolic links are followed (the
    /// watch folder does not follow them); every other limit is the default.
    static var commandLine: VideoReaderLimits {
        var limits = VideoReaderLimits()
        limits.followSymbolicLinks = true
        return limits
    }
}
