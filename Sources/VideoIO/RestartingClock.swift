/// Continues a stream's decode timestamps across restarts of its clock.
/// MPEG program and transport streams may start their clock again (two
/// captures joined with `cat`, DVD cells, a recorder restarted): in decode
/// order the dts then drops far below the previous one. From that packet on,
/// an offset places the new part right after the old one, as the ffmpeg CLI
/// does. A single wild timestamp (one corrupt PTS far ahead, then back to
/// normal) is not a restart: a forward jump only counts once the next packet
/// confirms it, and until then the clock stays where it was.
struct RestartingClock {
    let secondsPerTick: Double
    /// Offset (ticks) added to the current part.
    private(set) var current: Int64 = 0
    private(set) var restarts = 0
    /// The last continued dts in sequence, the duration of its packet, and a
    /// forward jump not yet confirmed by the packet after it.
    private var last: Int64?
    private var lastStep: Int64 = 0
    private var pendingJump: Int64?

    /// A drop of more than this many seconds is a restart (B-frame reordering
    /// of packets without dts moves back by well under a second).
    static let restartSeconds = 1.0
    /// A rise of more than this is a jump to be confirmed (ContentTimeline's hold).
    static let jumpSeconds = ContentTimeline.maximumHoldSeconds

    init(secondsPerTick: Double) { self.secondsPerTick = secondsPerTick }

    /// The offset for a packet with raw decode timestamp `dts` (or pts when
    /// it has no dts) and declared `duration`, in ticks.
    mutating func offset(dts raw: Int64, duration: Int64) -> Int64 {
        guard raw != FFmpegError.noPTS else { return current }
        let t = Ticks.adding(raw, current)
        guard let previous = last else {
            advance(to: t, from: t, duration: duration)
            return current
        }
        let change = Ticks.difference(from: previous, to: t) * secondsPerTick
        if let jump = pendingJump {
            pendingJump = nil
            if Ticks.difference(from: jump, to: t) * secondsPerTick > -Self.restartSeconds {
                // The packet before started a real forward jump: follow it.
                advance(to: t, from: jump, duration: duration)
                return current
            }
            if change > -Self.restartSeconds && change <= Self.jumpSeconds {
                // Back near the clock before the jump: that packet was a lone wild timestamp.
                advance(to: t, from: previous, duration: duration)
                return current
            }
        }
        if change < -Self.restartSeconds {
            // Continue one packet step after the last packet of the previous part.
            let continued = Ticks.adding(previous, max(1, lastStep))
            current = Ticks.adding(current, continued &- t)
            restarts += 1
            last = continued
            if duration > 0 { lastStep = duration }
            return current
        }
        if change > Self.jumpSeconds {
            pendingJump = t
            return current
        }
        advance(to: t, from: previous, duration: duration)
        return current
    }

    /// Takes `t` as the clock, remembering the step to it (the declared duration, else the rise).
    private mutating func advance(to t: Int64, from previous: Int64, duration: Int64) {
        if duration > 0 {
            lastStep = duration
        } else if t > previous {
            lastStep = t &- previous
        }
        last = max(previous, t)
    }
}
