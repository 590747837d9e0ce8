import CFFmpeg
import Foundation

/// An AVFormatContext over a `SecureFileInput`, opened with the hardening of
/// docs/VIDEO_READER.md §Hardening: the format is probed by us and checked against the
/// allow-list before FFmpeg opens anything, every nested open is refused
/// (`fl_refuse_io_open`), and an interrupt callback enforces the deadline.
final class Demuxer {
    let input: SecureFileInput
    private(set) var formatContext: UnsafeMutablePointer<AVFormatContext>?
    /// Counts nested opens the demuxer attempted and we refused.
    let refusedOpens: UnsafeMutablePointer<Int32>
    let deadline: Deadline

    var path: String { input.path }

    /// Opens `path`. `format` skips probing (second pass over a file already probed).
    /// `analyze: false` skips avformat_find_stream_info (which may decode
    /// frames) for second passes over a file whose header already gives the
    /// video stream's size; it runs anyway when the header does not.
    static func open(
        path: String, limits: VideoReaderLimits, deadline: Deadline,
        format: UnsafePointer<AVInputFormat>? = nil, analyze: Bool = true
    ) throws(VideoIOError) -> Demuxer {
        let input = try SecureFileInput.open(path: path, limits: limits)
        let demuxer = Demuxer(input: input, deadline: deadline)
        try demuxer.openInput(limits: limits, format: format, analyze: analyze)
        return demuxer
    }

    private init(input: SecureFileInput, deadline: Deadline) {
        self.input = input
        self.deadline = deadline
        refusedOpens = .allocate(capacity: 1)
        refusedOpens.initialize(to: 0)
    }

    deinit {
        // Closes the demuxer; the custom AVIOContext is freed by `input` after this.
        if formatContext != nil { avformat_close_input(&formatContext) }
        refusedOpens.deallocate()
    }

    /// Whether `name` (a comma-separated FFmpeg demuxer name) matches the allow-list,
    /// part by part, as libavformat's own `format_whitelist` check does.
    static func isAllowed(format name: String, in allowList: [String]) -> Bool {
        name.split(separator: ",").contains { allowList.contains(String($0)) }
    }

    private func openInput(limits: VideoReaderLimits, format: UnsafePointer<AVInputFormat>?, analyze: Bool) throws(VideoIOError) {
        guard let fc = avformat_alloc_context() else {
            throw .ffmpeg(path: path, operation: "allocating a format context", message: "out of memory")
        }
        fc.pointee.pb = input.context
        fc.pointee.flags |= AVFMT_FLAG_CUSTOM_IO
        fl_install_io_guard(fc, refusedOpens)
        fc.pointee.interrupt_callback.opaque = Unmanaged.passUnretained(deadline).toOpaque()
        fc.pointee.interrupt_callback.callback = { opaque in
            guard let opaque else { return 0 }
            return Unmanaged<Deadline>.fromOpaque(opaque).takeUnretainedValue().isExpired ? 1 : 0
        }

        // Probe the format ourselves so a refused format gets a precise error
        // and FFmpeg never runs a demuxer that is not on the allow-list.
        var detected = format
        if detected == nil {
            // Content only: no file name, so an extension cannot steer the choice
            // (a .jpg would otherwise pick image2, which opens files by pattern).
            let score = av_probe_input_buffer2(input.context, &detected, "", fc, 0, UInt32(limits.probeBytes))
            if score < 0 || detected == nil {
                avformat_free_context(fc)
                if deadline.isExpired { throw .timedOut(path: path, seconds: deadline.seconds) }
                throw .notAVideo(path: path, reason: score < 0 ? FFmpegError.message(score) : "unknown format")
            }
        }
        let name = detected.map { String(cString: $0.pointee.name) } ?? "?"
        guard Self.isAllowed(format: name, in: limits.allowedFormats) else {
            avformat_free_context(fc)
            throw .formatNotAllowed(path: path, format: name)
        }

        var options: OpaquePointer? = nil
        defer { av_dict_free(&options) }
        av_dict_set(&options, "format_whitelist", limits.allowedFormats.joined(separator: ","), 0)
        av_dict_set(&options, "protocol_whitelist", "file", 0)
        av_dict_set(&options, "codec_whitelist", limits.allowedDecoders.joined(separator: ","), 0)
        av_dict_set(&options, "probesize", String(limits.probeBytes), 0)
        av_dict_set(&options, "formatprobesize", String(limits.probeBytes), 0)
        av_dict_set(&options, "analyzeduration", String(limits.analyzeDurationMicroseconds), 0)
        av_dict_set(&options, "max_streams", String(limits.maxStreams), 0)
        av_dict_set(&options, "max_probe_packets", "2500", 0)
        av_dict_set(&options, "skip_estimate_duration_from_pts", "1", 0)

        var context: UnsafeMutablePointer<AVFormatContext>? = fc
        let opened = avformat_open_input(&context, path, detected, &options)
        guard opened >= 0, let context else {
            // avformat_open_input freed the context on failure.
            if deadline.isExpired { throw .timedOut(path: path, seconds: deadline.seconds) }
            throw .notAVideo(path: path, reason: FFmpegError.message(opened))
        }
        formatContext = context
        if !analyze && headerDescribesVideo { return }

        // find_stream_info may decode a frame; a still image's decoder would
        // allocate whatever size its header claims, so max_pixels goes to each stream's decoder.
        var streamOptions = [OpaquePointer?](repeating: nil, count: Int(context.pointee.nb_streams))
        for i in streamOptions.indices { av_dict_set(&streamOptions[i], "max_pixels", String(limits.maxPixels), 0) }
        let info = streamOptions.withUnsafeMutableBufferPointer { avformat_find_stream_info(context, $0.baseAddress) }
        for i in streamOptions.indices { av_dict_free(&streamOptions[i]) }
        if deadline.isExpired { throw .timedOut(path: path, seconds: deadline.seconds) }
        if info < 0 && context.pointee.nb_streams == 0 {
            throw .notAVideo(path: path, reason: FFmpegError.message(info))
        }
    }

    /// Whether some video stream already has a size and pixel format from the header alone.
    private var headerDescribesVideo: Bool {
        guard let fc = formatContext, let streams = fc.pointee.streams else { return false }
        return (0..<Int(fc.pointee.nb_streams)).contains { i in
            guard let par = streams[i]?.pointee.codecpar else { return false }
            return par.pointee.codec_type == AVMEDIA_TYPE_VIDEO && par.pointee.width > 0 && par.pointee.height > 0
                && par.pointee.format >= 0
        }
    }

    var inputFormat: UnsafePointer<AVInputFormat>? {
        formatContext.flatMap { UnsafePointer($0.pointee.iformat) }
    }

    var formatName: String {
        inputFormat.map { String(cString: $0.pointee.name) } ?? "unknown"
    }

    /// The container's own claim of its duration in seconds, if any.
    var declaredDurationSeconds: Double? {
        guard let fc = formatContext, fc.pointee.duration != FFmpegError.noPTS, fc.pointee.duration > 0 else { return nil }
        return Double(fc.pointee.duration) / Double(AV_TIME_BASE)
    }

    /// Picks the video stream to read: not cover art, has a decoder, largest
    /// picture, then the container's default. Every other stream is discarded
    /// so the demuxer does not hand us its packets.
    func selectVideoStream() throws(VideoIOError) -> UnsafeMutablePointer<AVStream> {
        guard let fc = formatContext, let streams = fc.pointee.streams else { throw .noVideoStream(path: path) }
        var best: (index: Int, score: Int)? = nil
        for i in 0..<Int(fc.pointee.nb_streams) {
            guard let st = streams[i], let par = st.pointee.codecpar else { continue }
            guard par.pointee.codec_type == AVMEDIA_TYPE_VIDEO else { continue }
            if st.pointee.disposition & AV_DISPOSITION_ATTACHED_PIC != 0 { continue }
            var score = Int(par.pointee.width) * Int(par.pointee.height)
            if st.pointee.disposition & AV_DISPOSITION_DEFAULT != 0 { score += 1 }
            if avcodec_find_decoder(par.pointee.codec_id) == nil { score = -1 }
            if score > (best?.score ?? Int.min) { best = (i, score) }
        }
        guard let best, let chosen = streams[best.index] else { throw .noVideoStream(path: path) }
        for i in 0..<Int(fc.pointee.nb_streams) where i != best.index {
            streams[i]?.pointee.discard = AVDISCARD_ALL
        }
        return chosen
    }

    /// Reads the next packet of any non-discarded stream into `packet`;
    /// returns FFmpeg's code (0, AVERROR_EOF, AVERROR_EXIT on deadline, ...).
    func read(into packet: UnsafeMutablePointer<AVPacket>) -> Int32 {
        guard let fc = formatContext else { return FFmpegError.eof }
        return av_read_frame(fc, packet)
    }
}
