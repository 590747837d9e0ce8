import CFFmpeg

/// Owns one AVFrame (av_frame_alloc / av_frame_free); its buffers are
/// reference-counted, so holding a decoded picture costs no copy.
final class FFFrame {
    let pointer: UnsafeMutablePointer<AVFrame>

    init(path: String) throws(VideoIOError) {
        guard let f = av_frame_alloc() else {
            throw .ffmpeg(path: path, operation: "allocating a frame", message: "out of memory")
        }
        pointer = f
    }

    func unref() { av_frame_unref(pointer) }

    /// Swaps pictures with `other` without copying.
    func swap(with other: FFFrame) {
        guard let tmp = av_frame_alloc() else { return }
        av_frame_move_ref(tmp, pointer)
        av_frame_move_ref(pointer, other.pointer)
        av_frame_move_ref(other.pointer, tmp)
        var t: UnsafeMutablePointer<AVFrame>? = tmp
        av_frame_free(&t)
    }

    deinit {
        var f: UnsafeMutablePointer<AVFrame>? = pointer
        av_frame_free(&f)
    }
}
