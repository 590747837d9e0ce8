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
    /// How many times the clock restarted (joined MPEG program or transport
    /// streams, DVD cells; `RestartingClock`). Entries then hold continued
    /// timestamps, and `offsets` and `clock` say, per entry, what was added
    /// and its continued dts (pts without one), so decoded frames can be
    /// continued too. Both are empty when the clock never restarted.
    var restarts = 0
    var offsets: [Int64] = []
    var clock: [Int64] = []

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
        let mayRestart = (demuxer.inputFormat?.pointee.flags ?? 0) & AVFMT_TS_DISCONT != 0
        var restartingClock = RestartingClock(secondsPerTick: secondsPerTick)
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
            var entry = Entry(
                pts: p.pts, dts: p.dts, duration: max(0, p.duration),
                isKeyframe: p.flags & AV_PKT_FLAG_KEY != 0,
                isDiscarded: p.flags & AV_PKT_FLAG_DISCARD != 0)
            if mayRestart {
                let offset = restartingClock.offset(dts: p.dts != FFmpegError.noPTS ? p.dts : p.pts, duration: entry.duration)
                if offset != 0 {
                    if entry.pts != FFmpegError.noPTS { entry.pts = Ticks.adding(entry.pts, offset) }
                    if entry.dts != FFmpegError.noPTS { entry.dts = Ticks.adding(entry.dts, offset) }
                }
                index.offsets.append(offset)
                index.clock.append(entry.dts != FFmpegError.noPTS ? entry.dts : entry.pts)
            }
            index.entries.append(entry)
            // Bound the duration by the packets' own timestamps, never the header's.
            let t = entry.pts != FFmpegError.noPTS ? entry.pts : entry.dts
            if t != FFmpegError.noPTS {
                minTime = min(minTime, t)
                maxTime = max(maxTime, t)
                let span = Double(maxTime) * secondsPerTick - Double(minTime) * secondsPerTick
                if span > limits.maxDurationSeconds {
                    throw .tooLong(path: path, seconds: span, limitSeconds: limits.maxDurationSeconds)
                }
            }
        }
        index.restarts = restartingClock.restarts
        if index.restarts == 0 {
            index.offsets = []
            index.clock = []
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
