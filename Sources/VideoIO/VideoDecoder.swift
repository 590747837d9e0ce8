import CFFmpeg

/// An opened AVCodecContext for the chosen video stream, restricted to the
/// decoder allow-list and to `max_pixels`.
final class VideoDecoder {
    private(set) var context: UnsafeMutablePointer<AVCodecContext>?
    let name: String

    static func open(
        stream: UnsafeMutablePointer<AVStream>, path: String, limits: VideoReaderLimits, threads: Int
    ) throws(VideoIOError) -> VideoDecoder {
        guard let par = stream.pointee.codecpar else { throw .noVideoStream(path: path) }
        guard let codec = avcodec_find_decoder(par.pointee.codec_id) else {
            throw .unsupportedCodec(path: path, codec: String(cString: avcodec_get_name(par.pointee.codec_id)))
        }
        let name = String(cString: codec.pointee.name)
        guard limits.allowedDecoders.contains(name) else {
            throw .unsupportedCodec(path: path, codec: name)
        }
        let decoder = VideoDecoder(name: name)
        guard let ctx = avcodec_alloc_context3(codec) else {
            throw .ffmpeg(path: path, operation: "allocating a decoder", message: "out of memory")
        }
        decoder.context = ctx
        let copied = avcodec_parameters_to_context(ctx, par)
        guard copied >= 0 else {
            throw .ffmpeg(path: path, operation: "configuring the \(name) decoder", message: FFmpegError.message(copied))
        }
        ctx.pointee.pkt_timebase = stream.pointee.time_base
        ctx.pointee.thread_count = Int32(max(1, threads))
        ctx.pointee.thread_type = FF_THREAD_FRAME | FF_THREAD_SLICE

        var options: OpaquePointer? = nil
        defer { av_dict_free(&options) }
        av_dict_set(&options, "codec_whitelist", limits.allowedDecoders.joined(separator: ","), 0)
        av_dict_set(&options, "max_pixels", String(limits.maxPixels), 0)
        let opened = avcodec_open2(ctx, codec, &options)
        guard opened >= 0 else {
            throw .ffmpeg(path: path, operation: "opening the \(name) decoder", message: FFmpegError.message(opened))
        }
        return decoder
    }

    private init(name: String) { self.name = name }

    deinit { avcodec_free_context(&context) }

    /// Sends a packet (nil starts draining). Returns FFmpeg's code.
    func send(_ packet: UnsafeMutablePointer<AVPacket>?) -> Int32 {
        guard let context else { return FFmpegError.eof }
        return avcodec_send_packet(context, packet)
    }

    /// Receives the next decoded frame. Returns FFmpeg's code (AVERROR(EAGAIN) when it needs input).
    func receive(into frame: UnsafeMutablePointer<AVFrame>) -> Int32 {
        guard let context else { return FFmpegError.eof }
        return avcodec_receive_frame(context, frame)
    }

    /// Decode only reference frames from now on (`true`), or every frame.
    /// Frame threads copy this per packet when the packet is submitted.
    func skipNonReferenceFrames(_ skip: Bool) {
        context?.pointee.skip_frame = skip ? AVDISCARD_NONREF : AVDISCARD_DEFAULT
    }

    /// Forgets all state after draining, so decoding can restart at a keyframe.
    func flush() {
        if let context { avcodec_flush_buffers(context) }
    }
}
