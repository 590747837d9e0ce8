import CFFmpeg
import Foundation
import Logging

/// Reads an untrusted video (or still image) and samples the frames the model
/// sees: one per 1/fps seconds of presentation time, measured from the first
/// frame; the frame for t_k is the last frame whose presentation time <= t_k.
///
/// Two passes: the first demuxes packet headers only (real duration, frame
/// count, keyframes, limits checked from timestamps); the second decodes just
/// the packets the `SamplingPlan` needs and scales only the frames kept.
///
/// Not Sendable: create one per file inside the task that uses it.
public final class VideoReader {
    public let path: String
    public let limits: VideoReaderLimits
    private let logger: Logger
    private let deadline: Deadline

    public init(path: String, limits: VideoReaderLimits = .init(), logger: Logger = Logger(label: "flamingo.video")) {
        FFmpegLogging.applyDefaultOnce()
        self.path = path
        self.limits = limits
        self.logger = logger
        deadline = Deadline(seconds: limits.deadlineSeconds)
    }

    /// Ends a read in progress (from another thread) with `VideoIOError.timedOut`.
    public func cancel() { deadline.cancel() }

    /// Container and stream facts, from the first pass only (no decoding).
    public func probe() throws(VideoIOError) -> VideoProbe {
        let opened = try open()
        let plan = try makePlan(opened, options: SamplingOptions())
        return describe(opened, plan: plan)
    }

    /// Samples the video and returns every frame's pixels.
    public func sample(_ options: SamplingOptions = SamplingOptions()) throws(VideoIOError) -> SampledVideo {
        var frames: [SampledFrame] = []
        var rgb: [UInt8] = []
        let report = try sample(options) { frame, pixels in
            frames.append(frame)
            rgb.append(contentsOf: pixels)
        }
        return SampledVideo(
            probe: report.probe, frames: frames, size: options.size, rgb: rgb, warnings: report.warnings,
            statistics: report.statistics)
    }

    /// Samples the video, handing each frame's (size, size, 3) RGB24 pixels to
    /// `onFrame` as soon as it is known; the buffer is only valid during the
    /// call. `onProbe` hears what the first pass found before any frame.
    /// Memory does not depend on the video's length.
    @discardableResult
    public func sample(
        _ options: SamplingOptions, onProbe: (VideoProbe) -> Void = { _ in },
        onFrame: (SampledFrame, UnsafeBufferPointer<UInt8>) -> Void
    ) throws(VideoIOError) -> SamplingReport {
        try options.validate()
        let opened = try open()
        let plan = try makePlan(opened, options: options)
        var probe = describe(opened, plan: plan)
        onProbe(probe)
        let outcome = plan.isPlanned
            ? try decodePlanned(opened, plan: plan, options: options, emit: onFrame)
            : try decodeLinear(opened, plan: plan, options: options, emit: onFrame)
        let stats = outcome.statistics
        probe.interlaced = probe.interlaced || outcome.interlaced
        if opened.demuxer.input.currentIdentity() != opened.demuxer.input.identity { throw .fileChanged(path: path) }

        guard outcome.emitted > 0 else {
            let detail = stats.framesDecoded == 0 ? "no frame could be decoded" : "no frame fell on a sample time"
            throw .corrupt(path: path, decodableFrames: stats.framesDecoded, packets: stats.packets, detail: detail)
        }
        var warnings: [String] = []
        if let error = opened.index.readError {
            warnings.append("reading stopped after \(opened.index.entries.count) video packets (\(error)): the file is truncated or damaged, frames after that point are missing")
        }
        if opened.index.restarts > 0 {
            warnings.append("the timestamps start again \(opened.index.restarts) time(s) (joined recordings or DVD cells): each part is placed after the one before it")
        }
        warnings += plan.timeline?.warnings() ?? []
        warnings += outcome.warnings
        if let declared = opened.demuxer.declaredDurationSeconds, let end = plan.timeline?.segments.last?.end,
           declared > end + max(1, 0.05 * declared), declared > probe.startTimeSeconds + end + max(1, 0.05 * declared) {
            // The claim may count from 0 or from the first frame; it is too long either way.
            warnings.append(String(format: "the container declares %.2f s but frames end at %.2f s: the file looks truncated", declared, end))
        }
        if stats.decodeErrors > 0 {
            warnings.append("\(stats.decodeErrors) packet(s) failed to decode; \(stats.framesDecoded) frame(s) were decodable")
        }
        if outcome.substituted > 0 {
            warnings.append("\(outcome.substituted) sample(s) show a neighbouring frame because the frame on screen at that time could not be decoded")
        }
        for warning in warnings { logger.warning("\(path): \(warning)") }
        return SamplingReport(probe: probe, warnings: warnings, statistics: stats)
    }

    // MARK: - First pass

    private struct OpenedVideo {
        var demuxer: Demuxer
        var stream: UnsafeMutablePointer<AVStream>
        var timeBase: AVRational
        var sampleAspectRatio: AVRational
        var rotation: Int
        var index: PacketIndex
        var codecName: String
    }

    private func open() throws(VideoIOError) -> OpenedVideo {
        // The duration limit applies to the packets' own span (PacketIndex),
        // not to the header's claim, which may count from a clock far from 0.
        let demuxer = try Demuxer.open(path: path, limits: limits, deadline: deadline)
        let stream = try demuxer.selectVideoStream()
        guard let par = stream.pointee.codecpar else { throw .noVideoStream(path: path) }
        let width = Int(par.pointee.width), height = Int(par.pointee.height)
        if width > limits.maxDimension || height > limits.maxDimension || width * height > limits.maxPixels
            || av_image_check_size2(UInt32(max(0, width)), UInt32(max(0, height)), Int64(limits.maxPixels),
                                    AV_PIX_FMT_NONE, 0, nil) < 0 && width > 0 {
            throw .resolutionTooLarge(path: path, width: width, height: height,
                                      limit: "\(limits.maxDimension) px a side, \(limits.maxPixels) pixels")
        }
        let decoder = avcodec_find_decoder(par.pointee.codec_id)
        let codecName = decoder.map { String(cString: $0.pointee.name) }
            ?? String(cString: avcodec_get_name(par.pointee.codec_id))
        guard decoder != nil, limits.allowedDecoders.contains(codecName) else {
            throw .unsupportedCodec(path: path, codec: codecName)
        }
        var sar = par.pointee.sample_aspect_ratio
        if sar.num <= 0 || sar.den <= 0 { sar = stream.pointee.sample_aspect_ratio }
        if sar.num <= 0 || sar.den <= 0 { sar = AVRational(num: 1, den: 1) }
        let timeBase = stream.pointee.time_base
        guard timeBase.num > 0, timeBase.den > 0 else {
            throw .notAVideo(path: path, reason: "the video stream has no time base")
        }
        let index = try PacketIndex.build(demuxer: demuxer, streamIndex: stream.pointee.index, timeBase: timeBase, limits: limits)
        guard !index.entries.isEmpty else {
            throw .corrupt(path: path, decodableFrames: 0, packets: 0,
                           detail: index.readError.map { "no video packet could be read: \($0)" } ?? "the video stream has no packets")
        }
        return OpenedVideo(
            demuxer: demuxer, stream: stream, timeBase: timeBase, sampleAspectRatio: sar,
            rotation: DisplayOrientation.clockwiseDegrees(of: stream), index: index, codecName: codecName)
    }

    private func nominalFrameDuration(_ opened: OpenedVideo) -> Int64 {
        let rate = frameRate(opened.stream)
        guard let rate, rate.num > 0, rate.den > 0 else { return 0 }
        return av_rescale_q(1, av_inv_q(rate), opened.timeBase)
    }

    private func frameRate(_ stream: UnsafeMutablePointer<AVStream>) -> AVRational? {
        for rate in [stream.pointee.avg_frame_rate, stream.pointee.r_frame_rate] where rate.num > 0 && rate.den > 0 {
            return rate
        }
        return nil
    }

    private func makePlan(_ opened: OpenedVideo, options: SamplingOptions) throws(VideoIOError) -> SamplingPlan {
        try SamplingPlan.make(
            path: path, index: opened.index, timeBase: opened.timeBase, nominalFrameDuration: nominalFrameDuration(opened),
            options: options, minimumSkip: 1, maxDurationSeconds: limits.maxDurationSeconds)
    }

    private func describe(_ opened: OpenedVideo, plan: SamplingPlan) -> VideoProbe {
        let par = opened.stream.pointee.codecpar.pointee
        let sar = opened.sampleAspectRatio
        var displayWidth = Int((Double(par.width) * Double(sar.num) / Double(sar.den)).rounded())
        var displayHeight = Int(par.height)
        var darNum: Int32 = 0, darDen: Int32 = 0
        av_reduce(&darNum, &darDen, Int64(par.width) * Int64(sar.num), Int64(par.height) * Int64(sar.den), 1 << 20)
        if opened.rotation == 90 || opened.rotation == 270 {
            swap(&displayWidth, &displayHeight)
            swap(&darNum, &darDen)
        }
        let format = AVPixelFormat(rawValue: par.format)
        let descriptor = av_pix_fmt_desc_get(format)
        let tb = opened.timeBase
        let firstPTS = plan.firstPTS ?? opened.index.entries.map(\.dts).filter { $0 != FFmpegError.noPTS }.min()
        let rate = frameRate(opened.stream).map { Double($0.num) / Double($0.den) }
        return VideoProbe(
            path: path, container: opened.demuxer.formatName, codec: opened.codecName,
            width: Int(par.width), height: Int(par.height),
            displayWidth: displayWidth, displayHeight: displayHeight,
            displayAspectRatio: "\(darNum):\(darDen)", sampleAspectRatio: "\(sar.num):\(sar.den)",
            rotation: opened.rotation,
            durationSeconds: plan.durationSeconds.isFinite ? plan.durationSeconds : 0,
            declaredDurationSeconds: opened.demuxer.declaredDurationSeconds,
            frameRate: rate, frameCount: plan.visibleFrameCount,
            startTimeSeconds: firstPTS.map { Double($0) * Double(tb.num) / Double(tb.den) } ?? 0,
            timeBase: "\(tb.num)/\(tb.den)",
            pixelFormat: av_get_pix_fmt_name(format).map { String(cString: $0) } ?? "unknown",
            bitsPerComponent: descriptor.map { Int($0.pointee.comp.0.depth) } ?? 0,
            interlaced: par.field_order != AV_FIELD_PROGRESSIVE && par.field_order != AV_FIELD_UNKNOWN,
            keyframeCount: opened.index.keyframeCount)
    }

    // MARK: - Second pass

    private struct DecodeOutcome {
        var statistics: SamplingReport.Statistics
        var emitted: Int
        var substituted: Int
        var interlaced: Bool
        /// Found while decoding (gaps in the decoder's timestamps).
        var warnings: [String] = []
    }

    /// Timestamps known: decode only what the plan needs, in parallel runs
    /// when sampling is seek-heavy, and emit the samples in order as they come.
    private func decodePlanned(
        _ opened: OpenedVideo, plan: SamplingPlan, options: SamplingOptions, emit: DecodeRun.FrameHandler
    ) throws(VideoIOError) -> DecodeOutcome {
        let maxThreads = max(1, limits.decoderThreads)
        // Enough runs to share: one single-threaded decoder per core. Few long
        // runs: one decoder with frame threading.
        let workers = plan.runs >= 2 * maxThreads ? maxThreads : 1
        let job = PlannedDecoding(
            path: path, limits: limits, deadline: deadline, formatName: opened.demuxer.formatName,
            identity: opened.demuxer.input.identity, streamIndex: opened.stream.pointee.index, plan: plan,
            size: options.size, rotation: opened.rotation, sampleAspectRatio: opened.sampleAspectRatio)
        let firstPTS = plan.firstPTS ?? 0
        let outcome = try job.run(workers: workers, threadsPerWorker: workers == 1 ? maxThreads : 1) { k, picture in
            let frame = SampledFrame(
                index: k, timeSeconds: plan.times[k],
                frameTimeSeconds: Ticks.seconds(from: firstPTS, to: picture.pts, timeBase: opened.timeBase),
                pts: picture.pts, isKeyframe: picture.isKeyframe)
            picture.pixels.withUnsafeBufferPointer { emit(frame, $0) }
        }
        var stats = outcome.statistics
        stats.packets = opened.index.entries.count
        stats.decoderThreads = workers == 1 ? maxThreads : workers
        return DecodeOutcome(statistics: stats, emitted: outcome.emitted, substituted: outcome.substituted,
                             interlaced: outcome.interlaced)
    }

    /// No reliable presentation timestamps in the packets: decode every
    /// packet and select by the decoder's best-effort timestamps.
    private func decodeLinear(
        _ opened: OpenedVideo, plan: SamplingPlan, options: SamplingOptions, emit: DecodeRun.FrameHandler
    ) throws(VideoIOError) -> DecodeOutcome {
        let threads = max(1, limits.decoderThreads)
        let demuxer = try Demuxer.open(path: path, limits: limits, deadline: deadline, format: opened.demuxer.inputFormat)
        guard demuxer.input.identity == opened.demuxer.input.identity else { throw .fileChanged(path: path) }
        let stream = try demuxer.selectVideoStream()
        guard stream.pointee.index == opened.stream.pointee.index else { throw .fileChanged(path: path) }
        let decoder = try VideoDecoder.open(stream: stream, path: path, limits: limits, threads: threads)
        var run = try DecodeRun(
            path: path, plan: plan, timeBase: opened.timeBase, streamSAR: opened.sampleAspectRatio,
            preprocessor: try FramePreprocessor(size: options.size, rotation: opened.rotation, path: path),
            fps: options.fps, maxFrames: options.maxFrames)
        var stats = SamplingReport.Statistics(
            packets: opened.index.entries.count, packetsSent: 0, framesDecoded: 0, decodeErrors: 0,
            decodeRuns: 0, decoderThreads: threads, planned: false)
        try PacketDecodeLoop.run(
            demuxer: demuxer, streamIndex: stream.pointee.index, decoder: decoder, limits: limits,
            lastPacket: Int.max, stats: &stats,
            action: { _ in .decode }, isDone: { run.isComplete },
            onFrame: { frame, lastSent throws(VideoIOError) in try run.handle(frame, afterPacket: lastSent, emit: emit) })
        try run.finish(emit: emit)
        return DecodeOutcome(
            statistics: stats, emitted: run.emitted, substituted: run.substituted, interlaced: run.interlaced,
            warnings: ContentTimeline.warnings(gaps: run.gaps, hold: ContentTimeline.maximumHoldSeconds))
    }
}
