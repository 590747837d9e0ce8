import CFFmpeg

/// Encodes RGB24 pictures as PNG with libavcodec's own encoder.
public enum PNGEncoder {
    public static func encode(rgb: ArraySlice<UInt8>, width: Int, height: Int) throws(VideoIOError) -> [UInt8] {
        let what = "PNG encoder"
        guard rgb.count == width * height * 3 else {
            throw .invalidOptions(reason: "PNG input has \(rgb.count) bytes, expected \(width * height * 3)")
        }
        guard let codec = avcodec_find_encoder(AV_CODEC_ID_PNG) else {
            throw .ffmpeg(path: what, operation: "finding the encoder", message: "libavcodec has no PNG encoder")
        }
        var ctx = avcodec_alloc_context3(codec)
        var frame = av_frame_alloc()
        var packet = av_packet_alloc()
        defer {
            avcodec_free_context(&ctx)
            av_frame_free(&frame)
            av_packet_free(&packet)
        }
        guard let ctx, let frame, let packet else {
            throw .ffmpeg(path: what, operation: "allocating", message: "out of memory")
        }
        ctx.pointee.width = Int32(width)
        ctx.pointee.height = Int32(height)
        ctx.pointee.pix_fmt = AV_PIX_FMT_RGB24
        ctx.pointee.time_base = AVRational(num: 1, den: 1)
        var ret = avcodec_open2(ctx, codec, nil)
        guard ret >= 0 else { throw .ffmpeg(path: what, operation: "opening", message: FFmpegError.message(ret)) }

        var pixels = Array(rgb)
        return try pixels.withUnsafeMutableBufferPointer { buffer throws(VideoIOError) -> [UInt8] in
            frame.pointee.width = Int32(width)
            frame.pointee.height = Int32(height)
            frame.pointee.format = AV_PIX_FMT_RGB24.rawValue
            fl_frame_set_packed(frame, buffer.baseAddress, Int32(width * 3))
            ret = avcodec_send_frame(ctx, frame)
            guard ret >= 0 else { throw .ffmpeg(path: what, operation: "encoding", message: FFmpegError.message(ret)) }
            ret = avcodec_receive_packet(ctx, packet)
            guard ret >= 0, let data = packet.pointee.data else {
                throw .ffmpeg(path: what, operation: "encoding", message: FFmpegError.message(ret))
            }
            return Array(UnsafeBufferPointer(start: data, count: Int(packet.pointee.size)))
        }
    }
}
