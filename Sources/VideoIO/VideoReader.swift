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
        let plan = makePlan(opened, options: SamplingOptions())
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
        return SampledVideo(probe: report.probe, frames: frames, size: options.size, rgb: rgb, warnings: report.warnings)
    }

    /// Samples the video, handing each frame's (size, size, 3) RGB24 pixels to
    /// `onFrame` as soon as it is known; the buffer is only valid during the call.
    @discardableResult
    public func sample(
        _ options: SamplingOptions, onFrame: (SampledFrame, UnsafeBufferPointer<UInt8>) -> Void
    ) throws(VideoIOError) -> SamplingReport {
        try options.validate()
        let opened = try open()
        let plan = makePlan(opened, options: options)
        let probe = describe(opened, plan: plan)
        let threads = plan.isPlanned && plan.runs > 1 && plan.averageRunLength < 12 ? 1 : max(1, limits.decoderThreads)

        // Second pass on a fresh demuxer over the same, unchanged file.
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
            decodeRuns: 0, decoderThreads: threads, planned: plan.isPlanned)
        try decode(demuxer: demuxer, streamIndex: stream.pointee.index, decoder: decoder, run: &run, stats: &stats,
                   emit: onFrame)
        if opened.demuxer.input.currentIdentity() != opened.demuxer.input.identity { throw .fileChanged(path: path) }

        guard run.emitted > 0 else {
            let detail = stats.framesDecoded == 0 ? "no frame could be decoded" : "no frame fell on a sample time"
            throw .corrupt(path: path, decodableFrames: stats.framesDecoded, packets: stats.packets, detail: detail)
        }
        var warnings: [String] = []
        if let error = opened.index.readError {
            warnings.append("reading stopped after \(opened.index.entries.count) video packets (\(error)): the file is truncated or damaged, frames after that point are missing")
        }
        if let declared = opened.demuxer.declaredDurationSeconds, plan.durationSeconds.isFinite,
           declared > plan.durationSeconds + max(1, 0.05 * declared) {
            warnings.append(String(format: "the container declares %.2f s but frames end at %.2f s: the file looks truncated", declared, plan.durationSeconds))
        }
        if stats.decodeErrors > 0 {
            warnings.append("\(stats.decodeErrors) packet(s) failed to decode; \(stats.framesDecoded) frame(s) were decodable")
        }
        if run.substituted > 0 {
            warnings.append("\(run.substituted) sample(s) show a neighbouring frame because the frame on screen at that time could not be decoded")
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
        let demuxer = try Demuxer.open(path: path, limits: limits, deadline: deadline)
        if let declared = demuxer.declaredDurationSeconds, declared > limits.maxDurationSeconds {
            throw .tooLong(path: path, seconds: declared, limitSeconds: limits.maxDurationSeconds)
        }
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

    private func makePlan(_ opened: OpenedVideo, options: SamplingOptions) -> SamplingPlan {
        SamplingPlan.make(
            index: opened.index, timeBase: opened.timeBase, nominalFrameDuration: nominalFrameDuration(opened),
            declaredDuration: opened.demuxer.declaredDurationSeconds, options: options, minimumSkip: 1)
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

    private func decode(
        demuxer: Demuxer, streamIndex: Int32, decoder: VideoDecoder, run: inout DecodeRun,
        stats: inout SamplingReport.Statistics, emit: DecodeRun.FrameHandler
    ) throws(VideoIOError) {
        let packet = try FFPacket(path: path)
        let frame = try FFFrame(path: path)
        var packetNumber = 0
        var sentSinceFlush = false
        let lastNeeded = run.plan.isPlanned ? (run.plan.actions.lastIndex { $0 != .skip } ?? -1) : Int.max

        func receiveAll() throws(VideoIOError) {
            while true {
                let ret = decoder.receive(into: frame.pointer)
                if ret == FFmpegError.again || ret == FFmpegError.eof { return }
                if ret < 0 {
                    stats.decodeErrors += 1
                    if stats.decodeErrors > 16 + stats.packetsSent { return }
                    continue
                }
                stats.framesDecoded += 1
                if stats.framesDecoded > limits.maxPackets { throw .tooManyPackets(path: path, limit: limits.maxPackets) }
                try run.handle(frame, emit: emit)
                frame.unref()
            }
        }
        func drain() throws(VideoIOError) {
            _ = decoder.send(nil)
            try receiveAll()
            decoder.flush()
            sentSinceFlush = false
        }

        while !run.isComplete && packetNumber <= lastNeeded {
            if deadline.isExpired { throw .timedOut(path: path, seconds: deadline.seconds) }
            let ret = demuxer.read(into: packet.pointer)
            if ret == FFmpegError.eof { break }
            if ret == FFmpegError.exit { throw .timedOut(path: path, seconds: deadline.seconds) }
            if ret < 0 { break }  // Truncation: already reported by the first pass.
            defer { packet.unref() }
            guard packet.pointer.pointee.stream_index == streamIndex else { continue }
            let action = run.plan.action(forPacket: packetNumber)
            packetNumber += 1
            if action == .skip {
                if sentSinceFlush { try drain() }
                continue
            }
            if !sentSinceFlush { stats.decodeRuns += 1 }
            decoder.skipNonReferenceFrames(action == .referenceOnly)
            while true {
                let sent = decoder.send(packet.pointer)
                if sent == FFmpegError.again {
                    try receiveAll()
                    continue
                }
                if sent < 0 && sent != FFmpegError.eof { stats.decodeErrors += 1 }
                break
            }
            stats.packetsSent += 1
            sentSinceFlush = true
            try receiveAll()
        }
        if sentSinceFlush { try drain() }
        try run.finish(emit: emit)
    }
}
