import CFFmpeg

/// The first pass over a file: every packet of the chosen video stream, in
/// decode order, read without decoding (demuxing costs about 1% of decoding).
/// It gives the real duration (from timestamps, not the header), the frame
/// count, the keyframes, and lets the sampler decide before decoding which
/// packets it needs.
struct PacketIndex {
    struct Entry {
        var pts: Int64
        var dts: Int64
        /// In stream time base; 0 when the container does not say.
        var duration: Int64
        var isKeyframe: Bool
        /// Marked by the demuxer (edit lists) as decoded but never shown.
        var isDiscarded: Bool
    }

    var entries: [Entry] = []
    /// Why reading stopped before the end of the file, if it did (truncation, damage).
    var readError: String?

    static func build(
        demuxer: Demuxer, streamIndex: Int32, timeBase: AVRational, limits: VideoReaderLimits
    ) throws(VideoIOError) -> PacketIndex {
        let path = demuxer.path
        let packet = try FFPacket(path: path)
        var index = PacketIndex()
        index.entries.reserveCapacity(4096)
        let secondsPerTick = Double(timeBase.num) / Double(timeBase.den)
        var minTime = Int64.max
        var maxTime = Int64.min
        while true {
            let ret = demuxer.read(into: packet.pointer)
            if ret == FFmpegError.eof { break }
            if ret == FFmpegError.exit || demuxer.deadline.isExpired {
                throw .timedOut(path: path, seconds: demuxer.deadline.seconds)
            }
            if ret < 0 {
                index.readError = FFmpegError.message(ret)
                break
            }
            defer { packet.unref() }
            let p = packet.pointer.pointee
            guard p.stream_index == streamIndex else { continue }
            guard index.entries.count < limits.maxPackets else {
                throw .tooManyPackets(path: path, limit: limits.maxPackets)
            }
            index.entries.append(Entry(
                pts: p.pts, dts: p.dts, duration: max(0, p.duration),
                isKeyframe: p.flags & AV_PKT_FLAG_KEY != 0,
                isDiscarded: p.flags & AV_PKT_FLAG_DISCARD != 0))
            // Bound the duration by the packets' own timestamps, never the header's.
            let t = p.pts != FFmpegError.noPTS ? p.pts : p.dts
            if t != FFmpegError.noPTS {
                minTime = min(minTime, t)
                maxTime = max(maxTime, t)
                let span = Double(maxTime) * secondsPerTick - Double(minTime) * secondsPerTick
                if span > limits.maxDurationSeconds {
                    throw .tooLong(path: path, seconds: span, limitSeconds: limits.maxDurationSeconds)
                }
            }
        }
        return index
    }

    /// Whether every shown packet carries a presentation timestamp, so the
    /// sampler can plan from packets alone.
    var hasPresentationTimestamps: Bool {
        !entries.isEmpty && entries.allSatisfy { $0.isDiscarded || $0.pts != FFmpegError.noPTS }
    }

    var keyframeCount: Int { entries.reduce(0) { $0 + ($1.isKeyframe ? 1 : 0) } }
}
