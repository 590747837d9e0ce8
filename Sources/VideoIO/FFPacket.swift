import CFFmpeg

/// Owns one AVPacket (av_packet_alloc / av_packet_free).
final class FFPacket {
    let pointer: UnsafeMutablePointer<AVPacket>

    init(path: String) throws(VideoIOError) {
        guard let p = av_packet_alloc() else {
            throw .ffmpeg(path: path, operation: "allocating a packet", message: "out of memory")
        }
        pointer = p
    }

    func unref() { av_packet_unref(pointer) }

    deinit {
        var p: UnsafeMutablePointer<AVPacket>? = pointer
        av_packet_free(&p)
    }
}
