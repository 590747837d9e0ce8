import CFFmpeg

/// Which packets to decode, decided from packet timestamps before decoding.
///
/// For sample time t_k the frame shown is the last frame whose presentation
/// time is <= t_k. Knowing every packet's pts, the plan marks:
/// - the packets of those frames: decode;
/// - packets between the keyframe that starts a needed run and a target:
///   decode only if they are reference frames (`skip_frame=nonref`), because
///   later frames may predict from them;
/// - everything else: skip. Skipping a run of packets up to a keyframe is a
///   forward seek (the decoder is drained and flushed first), done by
///   dropping packets rather than `av_seek_frame`, whose accuracy varies by
///   container.
struct SamplingPlan {
    enum Action: UInt8 {
        case skip
        case referenceOnly
        case decode
    }

    /// Sample times, seconds from the first frame.
    var times: [Double]
    /// The first frame's pts; nil when the stream lacks timestamps and the
    /// first decoded frame's timestamp must be used instead.
    var firstPTS: Int64?
    /// When frames are on screen; nil when no packet has a timestamp (the
    /// decoder's timestamps decide as frames come out).
    var timeline: ContentTimeline?
    /// Seconds of content (`timeline`'s segments); infinity when unknown.
    var durationSeconds: Double { timeline?.durationSeconds ?? .infinity }
    /// One per packet, in decode order.
    var actions: [Action]
    /// The planned frame pts for each sample (nil when unplanned).
    var plannedPTS: [Int64?]
    /// The run that decodes each sample's planned frame (empty when unplanned).
    var runOfSample: [Int] = []
    var visibleFrameCount: Int?
    /// For each packet, the run it is decoded in (-1: skipped). A run starts
    /// afresh at a keyframe, so runs can be decoded independently, in parallel.
    var runOf: [Int32]
    /// Number of runs that start decoding afresh at a keyframe.
    var runs: Int
    /// The last packet (decode order) of each run.
    var runLastPacket: [Int] {
        var ends = [Int](repeating: -1, count: runs)
        for (i, r) in runOf.enumerated() where r >= 0 && Int(r) < runs { ends[Int(r)] = i }
        return ends
    }
    var packetsToDecode: Int
    /// Files whose clock restarts (`PacketIndex.restarts`): per packet, the
    /// offset added to its timestamps and its continued dts (pts without one).
    /// Empty for every other file.
    var restartOffsets: [Int64] = []
    var restartClock: [Int64] = []

    /// A decoded frame's timestamp on the plan's continued timeline. A frame
    /// comes out a few packets after its own, so it belongs to the part of one
    /// of the packets sent just before: the one whose offset puts it nearest
    /// the clock of the last packet sent (parts are at least a second apart).
    func continued(_ pts: Int64, afterPacket i: Int) -> Int64 {
        guard !restartOffsets.isEmpty, pts != FFmpegError.noPTS, i >= 0, i < restartOffsets.count else { return pts }
        var best = restartOffsets[i]
        var bestDistance = Double.infinity
        for j in stride(from: i, through: max(0, i - 64), by: -1) where j == i || restartOffsets[j] != restartOffsets[j + 1] {
            let distance = abs(Ticks.difference(from: restartClock[i], to: Ticks.adding(pts, restartOffsets[j])))
            if distance < bestDistance { (best, bestDistance) = (restartOffsets[j], distance) }
        }
        return Ticks.adding(pts, best)
    }

    var isPlanned: Bool { firstPTS != nil }

    func action(forPacket i: Int) -> Action {
        i < actions.count ? actions[i] : (isPlanned ? .skip : .decode)
    }

    /// Packets per run of decoding: small means seek-heavy sampling, where a
    /// single decoder thread beats frame threading (docs/VIDEO_READER.md §Threading).
    var averageRunLength: Double { runs == 0 ? 0 : Double(packetsToDecode) / Double(runs) }

    /// The plan for `index`. Throws when no frame would ever be shown (every
    /// packet hidden by an edit list), or when the content is longer than
    /// `maxDurationSeconds` (the sample count follows from it).
    static func make(
        path: String, index: PacketIndex, timeBase: AVRational, nominalFrameDuration: Int64,
        options: SamplingOptions, minimumSkip: Int, maxDurationSeconds: Double
    ) throws(VideoIOError) -> SamplingPlan {
        let entries = index.entries
        guard index.hasPresentationTimestamps else {
            var plan = linear(index: index, timeBase: timeBase,
                              nominalFrameDuration: nominalFrameDuration, options: options)
            (plan.restartOffsets, plan.restartClock) = (index.offsets, index.clock)
            if let timeline = plan.timeline, !(timeline.durationSeconds <= maxDurationSeconds) {
                throw .tooLong(path: path, seconds: timeline.durationSeconds, limitSeconds: maxDurationSeconds)
            }
            return plan
        }

        // Shown frames in presentation order: (pts, decode index).
        var shown: [(pts: Int64, packet: Int)] = []
        shown.reserveCapacity(entries.count)
        for (i, e) in entries.enumerated() where !e.isDiscarded { shown.append((e.pts, i)) }
        guard let firstPTS = shown.map(\.pts).min() else {
            throw .corrupt(path: path, decodableFrames: 0, packets: entries.count,
                           detail: "the edit list hides every frame: all \(entries.count) video packet(s) fall outside it, so nothing is ever on screen")
        }
        shown.sort { $0.pts != $1.pts ? $0.pts < $1.pts : $0.packet < $1.packet }

        let timeline = ContentTimeline.make(
            frames: shown.map { (time: $0.pts, duration: entries[$0.packet].duration) },
            nominalFrameDuration: nominalFrameDuration, timeBase: timeBase)
        guard timeline.durationSeconds <= maxDurationSeconds else {
            throw .tooLong(path: path, seconds: timeline.durationSeconds, limitSeconds: maxDurationSeconds)
        }
        let times = timeline.sampleTimes(options)
        let shownSeconds = shown.map { Ticks.seconds(from: firstPTS, to: $0.pts, timeBase: timeBase) }

        // Frame for each sample: the last shown frame with (pts - first) <= t.
        var plannedPTS: [Int64?] = []
        var targetPackets: [Int] = []
        var cursor = 0
        for t in times {
            while cursor + 1 < shown.count, shownSeconds[cursor + 1] <= t { cursor += 1 }
            plannedPTS.append(shown[cursor].pts)
            targetPackets.append(shown[cursor].packet)
        }

        // Keyframes (decode order) that can start a run for a target packet:
        // key, not after it, and not shown after it (open-GOP leading frames).
        let keyframes = entries.indices.filter { entries[$0].isKeyframe }
        var actions = [Action](repeating: .skip, count: entries.count)
        var runOf = [Int32](repeating: -1, count: entries.count)
        var position = 0
        var runs = 0
        for target in Set(targetPackets).sorted() where target >= position {
            var start = position
            if let k = Self.runStart(for: target, keyframes: keyframes, entries: entries),
               k > position, runs == 0 || k - position >= minimumSkip {
                start = k
            }
            if runs == 0 || start != position { runs += 1 }
            for i in start..<target where actions[i] != .decode { actions[i] = .referenceOnly }
            actions[target] = .decode
            for i in start...target { runOf[i] = Int32(runs - 1) }
            position = target + 1
        }
        let decoded = actions.reduce(0) { $0 + ($1 == .skip ? 0 : 1) }
        return SamplingPlan(
            times: times, firstPTS: firstPTS, timeline: timeline, actions: actions,
            plannedPTS: plannedPTS, runOfSample: targetPackets.map { Int(runOf[$0]) },
            visibleFrameCount: shown.count, runOf: runOf, runs: runs, packetsToDecode: decoded,
            restartOffsets: index.offsets, restartClock: index.clock)
    }

    /// The last keyframe at or before `target` in decode order whose pts is not after the target's.
    private static func runStart(for target: Int, keyframes: [Int], entries: [PacketIndex.Entry]) -> Int? {
        // Binary search for the last keyframe index <= target.
        var lo = 0, hi = keyframes.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if keyframes[mid] <= target { lo = mid + 1 } else { hi = mid }
        }
        var j = lo - 1
        while j >= 0 {
            let k = keyframes[j]
            if entries[k].pts == FFmpegError.noPTS || entries[k].pts <= entries[target].pts { return k }
            j -= 1
        }
        return nil
    }

    /// Streams without presentation timestamps: decode everything and pick by
    /// the decoder's best-effort timestamps; the timeline comes from dts.
    private static func linear(
        index: PacketIndex, timeBase: AVRational, nominalFrameDuration: Int64, options: SamplingOptions
    ) -> SamplingPlan {
        let stamped = index.entries.filter { $0.dts != FFmpegError.noPTS }.sorted { $0.dts < $1.dts }
        let timeline: ContentTimeline? = stamped.isEmpty ? nil : ContentTimeline.make(
            frames: stamped.map { (time: $0.dts, duration: $0.duration) },
            nominalFrameDuration: nominalFrameDuration, timeBase: timeBase)
        let times = timeline?.sampleTimes(options) ?? []
        return SamplingPlan(
            times: times, firstPTS: nil, timeline: timeline,
            actions: [Action](repeating: .decode, count: index.entries.count),
            plannedPTS: times.map { _ in nil }, visibleFrameCount: nil,
            runOf: [Int32](repeating: 0, count: index.entries.count), runs: 1, packetsToDecode: index.entries.count)
    }
}
