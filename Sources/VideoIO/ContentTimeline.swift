import CFFmpeg

/// When a video has a picture on screen, worked out from its frames'
/// timestamps before anything is decoded, and the sample times that follow.
///
/// A frame stays on screen until the next frame, as long as that comes within
/// the hold `H = max(maximumHoldSeconds, holdFrames x the typical frame
/// duration)`; the last frame, and one followed by a longer interval, stays
/// for its own declared duration if that is at most `holdFrames` typical
/// frame durations, else for one typical frame duration. A longer interval is
/// a gap (one corrupt timestamp, a recorder that paused for hours) and gets
/// no samples; a declared duration past its cap (a huge Matroska
/// DefaultDuration) is not believed. So one bad number cannot turn a
/// 3-second clip into hours of copies of one picture.
/// The typical frame duration is the median step between frames (the
/// container's nominal frame rate only when there is a single frame), since
/// a damaged header can claim any rate. docs/VIDEO_READER.md states the rule.
///
/// Times are seconds from the first frame on the file's own timeline: a gap
/// moves the frames after it, it does not close up.
struct ContentTimeline: Equatable {
    /// A stretch of presentation time with a picture on screen, or a gap between two.
    struct Interval: Equatable {
        var start: Double
        var end: Double
        var length: Double { end - start }
    }

    /// Intervals with a picture on screen, in order; the first starts at 0.
    var segments: [Interval]
    /// The stretches between segments.
    var gaps: [Interval]
    /// The longest declared frame duration that was not believed (it was
    /// over the hold), in seconds, if any.
    var distrustedFrameDuration: Double?
    /// The typical frame duration used for held frames, in seconds (0 when unknown).
    var frameDuration: Double

    static let maximumHoldSeconds = 10.0
    static let holdFrames = 4.0

    /// Seconds of content: the segments' total length (the video's `duration_s`).
    var durationSeconds: Double { segments.reduce(0) { $0 + $1.length } }

    /// The hold H for frames whose typical duration is `frameDuration` seconds.
    static func hold(frameDuration: Double) -> Double { max(maximumHoldSeconds, holdFrames * frameDuration) }

    /// Builds the timeline of frames given in presentation order as
    /// (timestamp, declared duration or 0), both in ticks of `timeBase`.
    /// `nominalFrameDuration` (ticks, 0 when unknown) is used only when there
    /// are fewer than two distinct timestamps.
    static func make(
        frames: [(time: Int64, duration: Int64)], nominalFrameDuration: Int64, timeBase: AVRational
    ) -> ContentTimeline {
        guard let first = frames.first?.time, timeBase.num > 0, timeBase.den > 0 else {
            return ContentTimeline(segments: [], gaps: [], distrustedFrameDuration: nil, frameDuration: 0)
        }
        // Arithmetic in ticks (exact for the integers files hold), seconds at the end.
        let relative = frames.map { Ticks.difference(from: first, to: $0.time) }
        var steps = zip(relative.dropFirst(), relative).map { $0 - $1 }.filter { $0 > 0 }
        var typical = 0.0
        if !steps.isEmpty {
            steps.sort()
            typical = steps[steps.count / 2]
        } else if nominalFrameDuration > 0 {
            typical = Double(nominalFrameDuration)
        }
        func seconds(_ ticks: Double) -> Double { Ticks.seconds(ticks, timeBase: timeBase) }
        let hold = Self.hold(frameDuration: seconds(typical)) * Double(timeBase.den) / Double(timeBase.num)
        var distrusted: Double?
        /// How long frame i stays on screen when no next frame takes over within the hold.
        let declaredCap = typical > 0 ? holdFrames * typical : hold
        func ownLength(_ i: Int) -> Double {
            let declared = Double(max(0, frames[i].duration))
            if declared > 0 && declared <= declaredCap { return declared }
            if declared > declaredCap { distrusted = max(distrusted ?? 0, seconds(declared)) }
            return declared > 0 ? min(typical, declared) : typical
        }

        var segments: [Interval] = []
        var gaps: [Interval] = []
        var start = 0.0
        for i in relative.indices {
            let next = i + 1 < relative.count ? relative[i + 1] : nil
            if let next, next - relative[i] <= hold { continue }
            let end = relative[i] + ownLength(i)
            segments.append(Interval(start: seconds(start), end: seconds(end)))
            if let next {
                if next > end { gaps.append(Interval(start: seconds(end), end: seconds(next))) }
                start = max(end, next)
            }
        }
        return ContentTimeline(segments: segments, gaps: gaps, distrustedFrameDuration: distrusted,
                               frameDuration: seconds(typical))
    }

    /// Sample times in seconds from the first frame: t_k = k / fps for every
    /// k whose time falls inside a segment; or, when that is more than
    /// `maxFrames`, `maxFrames` times spread evenly over the content (gaps
    /// skipped). No content at all (a still image) gives the single time 0.
    func sampleTimes(_ options: SamplingOptions) -> [Double] {
        let duration = durationSeconds
        guard duration.isFinite, duration > 0 else { return [0] }
        let fps = options.fps
        let ranges = segments.map { segment -> Range<Int> in
            let lower = Self.firstIndex(atOrAfter: segment.start, fps: fps)
            return lower..<max(lower, Self.firstIndex(atOrAfter: segment.end, fps: fps))
        }
        let count = ranges.reduce(0) { $0 + $1.count }
        if let maxFrames = options.maxFrames, count > maxFrames {
            return (0..<maxFrames).map { presentationTime(ofContentTime: Double($0) * duration / Double(maxFrames)) }
        }
        let times = ranges.flatMap { $0.map { Double($0) / fps } }
        return times.isEmpty ? [0] : times
    }

    /// The smallest k >= 0 with k / fps >= t, computed the way times are (k / fps).
    static func firstIndex(atOrAfter t: Double, fps: Double) -> Int {
        guard t > 0 else { return 0 }
        let guess = (t * fps).rounded(.up)
        guard guess < Double(Int.max / 2) else { return Int.max / 2 }
        var k = Int(guess)
        while k > 0 && Double(k - 1) / fps >= t { k -= 1 }
        while Double(k) / fps < t { k += 1 }
        return k
    }

    /// The presentation time `u` seconds of content after the start (gaps skipped).
    func presentationTime(ofContentTime u: Double) -> Double {
        var remaining = u
        for segment in segments {
            if remaining < segment.length { return segment.start + remaining }
            remaining -= segment.length
        }
        return segments.last?.end ?? 0
    }

    /// What a user should hear about the timeline: each gap (start and
    /// length, at most `listed` of them) and a frame duration not believed.
    func warnings(listed: Int = 5) -> [String] {
        var out = Self.warnings(gaps: gaps, hold: Self.hold(frameDuration: frameDuration), listed: listed)
        if let distrusted = distrustedFrameDuration {
            out.append(String(format: "a frame declares %.3f s on screen, more than %.0f typical frame durations; counted as %.3f s",
                              distrusted, Self.holdFrames, frameDuration))
        }
        return out
    }

    /// One warning per gap (start and length, at most `listed`, then their count and total).
    static func warnings(gaps: [Interval], hold: Double, listed: Int = 5) -> [String] {
        var out: [String] = []
        for gap in gaps.prefix(listed) {
            out.append(String(format: "no frame is on screen from %.3f s for %.3f s (a timestamp gap longer than the %.1f s hold): no samples there",
                              gap.start, gap.length, hold))
        }
        if gaps.count > listed {
            let rest = gaps.dropFirst(listed)
            out.append(String(format: "%d more gap(s) totalling %.3f s", rest.count, rest.reduce(0) { $0 + $1.length }))
        }
        return out
    }
}
