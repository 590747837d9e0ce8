import CFFmpeg

/// FFmpeg's return codes in words.
enum FFmpegError {
    /// `av_err2str`: the message FFmpeg gives for a negative return code.
    static func message(_ code: Int32) -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        fl_strerror(code, &buffer, buffer.count)
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    static let eof = fl_averror_eof()
    static let again = fl_averror_eagain()
    static let exit = fl_averror_exit()
    static let invalidData = fl_averror_invaliddata()
    static let noPTS = fl_nopts_value()
}
