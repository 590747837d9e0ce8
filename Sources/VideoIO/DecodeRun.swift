import CFFmpeg

/// Frame selection for streams whose packets lack presentation timestamps
/// (decoded linearly): decoded frames arrive in presentation order, and
/// sample t_k takes the last frame whose time is <= t_k. Only one candidate picture is held (a reference, no copy), and a
/// picture is scaled once however many samples show it (VFR gaps).
struct DecodeRun {
    typealias FrameHandler = (SampledFrame, UnsafeBufferPointer<UInt8>) -> Void

    let path: String
    let plan: SamplingPlan
    let timeBase: AVRational
    let streamSAR: AVRational
    let preprocessor: FramePreprocessor
    let fps: Double
    let maxFrames: Int?

    private(set) var times: [Double]
    private var firstPTS: Int64?
    private let candidate: FFFrame
    private var candidateTime: Double?
    private var candidatePTS: Int64 = 0
    private var candidateEnd: Double = 0
    private var nextTarget = 0
    private var pixels: [UInt8]
    private var pixelsPTS: Int64?
    private(set) var emitted = 0
    /// Whether any decoded frame was field-coded.
    private(set) var interlaced = false
    /// Samples before the first decodable frame, shown with that frame.
    private(set) var substituted = 0
    /// Unbounded runs: the next k of t_k = k / fps, and gaps met (ContentTimeline's hold).
    private var nextK = 0
    private(set) var gaps: [ContentTimeline.Interval] = []

    /// Whether the sample times are known up front (the duration is).
    private var bounded: Bool { plan.durationSeconds.isFinite }

    var isComplete: Bool { bounded && nextTarget >= times.count }

    init(path: String, plan: SamplingPlan, timeBase: AVRational, streamSAR: AVRational,
         preprocessor: FramePreprocessor, fps: Double, maxFrames: Int?) throws(VideoIOError) {
        self.path = path
        self.plan = plan
        self.timeBase = timeBase
        self.streamSAR = streamSAR
        self.preprocessor = preprocessor
        self.fps = fps
        self.maxFrames = maxFrames
        times = plan.times
        firstPTS = plan.firstPTS
        candidate = try FFFrame(path: path)
        pixels = [UInt8](repeating: 0, count: preprocessor.size * preprocessor.size * 3)
    }

    private func seconds(_ ticks: Int64) -> Double { Ticks.seconds(Double(ticks), timeBase: timeBase) }

    /// Takes a decoded frame. On return `frame` holds the previous candidate's
    /// picture (or nothing); the caller unreferences it.
    mutating func handle(_ frame: FFFrame, afterPacket lastSent: Int, emit: FrameHandler) throws(VideoIOError) {
        let f = frame.pointer.pointee
        // A frame from a packet the edit list hides (MJPEG's decoder still returns those).
        if f.flags & AV_FRAME_FLAG_DISCARD != 0 { return }
        if fl_frame_interlaced(frame.pointer) != 0 { interlaced = true }
        var pts = f.best_effort_timestamp
        if pts == FFmpegError.noPTS { pts = f.pts }
        pts = plan.continued(pts, afterPacket: lastSent)
        if pts == FFmpegError.noPTS {
            // No timestamp at all: continue from the previous frame.
            let step = max(1, fl_frame_duration(frame.pointer))
            pts = candidateTime == nil ? 0 : Ticks.adding(candidatePTS, step)
        }
        if firstPTS == nil { firstPTS = pts }
        let t = Ticks.seconds(from: firstPTS ?? pts, to: pts, timeBase: timeBase)
        if let current = candidateTime, t < current { return }  // out of order: ignore

        if !bounded {
            if let current = candidateTime, t - current > ContentTimeline.hold(frameDuration: candidateEnd - current) {
                // A gap: the previous frame counts for its own duration, then no samples until t.
                extendTimes(through: candidateEnd, inclusive: false)
                while nextTarget < times.count { try emitCandidate(emit) }
                gaps.append(.init(start: candidateEnd, end: t))
                nextK = max(nextK, ContentTimeline.firstIndex(atOrAfter: t, fps: fps))
            }
            extendTimes(through: t, inclusive: true)
        }
        while nextTarget < times.count && times[nextTarget] < t {
            if candidateTime != nil {
                try emitCandidate(emit)
            } else {
                // Samples before the first decodable frame show that frame.
                try emitFrame(frame.pointer, pts: pts, time: t, planned: false, emit: emit)
            }
        }
        frame.swap(with: candidate)
        let previousTime = candidateTime
        candidateTime = t
        candidatePTS = pts
        // A declared duration over the hold is not believed (a damaged header); the last step stands in.
        let declared = seconds(max(0, fl_frame_duration(candidate.pointer)))
        let step = previousTime.map { t - $0 } ?? 0
        candidateEnd = t + (declared <= ContentTimeline.maximumHoldSeconds ? declared : step)
    }

    /// Emits the samples still pending once decoding is over.
    mutating func finish(emit: FrameHandler) throws(VideoIOError) {
        guard candidateTime != nil else { return }
        if !bounded { extendTimes(through: candidateEnd, inclusive: false) }
        while nextTarget < times.count { try emitCandidate(emit) }
    }

    private mutating func extendTimes(through t: Double, inclusive: Bool) {
        while maxFrames.map({ times.count < $0 }) ?? true {
            let next = Double(nextK) / fps
            guard inclusive ? next <= t : (next < t || times.isEmpty) else { break }
            times.append(next)
            nextK += 1
        }
    }

    private mutating func emitCandidate(_ emit: FrameHandler) throws(VideoIOError) {
        try emitFrame(candidate.pointer, pts: candidatePTS, time: candidateTime ?? 0, planned: true, emit: emit)
    }

    private mutating func emitFrame(
        _ frame: UnsafeMutablePointer<AVFrame>, pts: Int64, time: Double, planned: Bool, emit: FrameHandler
    ) throws(VideoIOError) {
        let k = nextTarget
        if pixelsPTS != pts {
            try pixels.withUnsafeMutableBufferPointer { buffer throws(VideoIOError) in
                guard let base = buffer.baseAddress else { return }
                try preprocessor.convert(frame, streamSAR: streamSAR, into: base)
            }
            pixelsPTS = pts
        }
        if !planned { substituted += 1 }
        let sample = SampledFrame(
            index: k, timeSeconds: times[k], frameTimeSeconds: time, pts: pts,
            isKeyframe: fl_frame_is_key(frame) != 0)
        pixels.withUnsafeBufferPointer { emit(sample, $0) }
        emitted += 1
        nextTarget += 1
    }
}
