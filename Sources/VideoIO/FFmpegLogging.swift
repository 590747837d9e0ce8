import CFFmpeg
import Foundation
import Logging
import Synchronization

/// Routes FFmpeg's own log lines (av_log) into swift-log, rate-limited so a
/// hostile file cannot flood the logs. Off (AV_LOG_QUIET) unless enabled:
/// the reader reports every failure through `VideoIOError` anyway.
public enum FFmpegLogging {
    /// Lines forwarded per second at most; the rest are counted and dropped.
    static let linesPerSecond = 20

    private struct State {
        var logger = Logger(label: "ffmpeg")
        var windowStart: UInt64 = 0
        var linesInWindow = 0
        var dropped = 0
        var configured = false
    }

    private static let state = Mutex(State())

    /// Enables FFmpeg's log at `level` (for example `AV_LOG_WARNING`) into `logger`.
    public static func enable(level: Int32 = AV_LOG_WARNING, logger: Logger) {
        state.withLock {
            $0.logger = logger
            $0.configured = true
        }
        av_log_set_level(level)
        av_log_set_callback { _, level, format, arguments in
            guard level <= av_log_get_level(), let format, let arguments else { return }
            var buffer = [CChar](repeating: 0, count: 1024)
            _ = vsnprintf(&buffer, buffer.count, format, arguments)
            let line = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
                .trimmingCharacters(in: .whitespacesAndNewlines)
            guard !line.isEmpty else { return }
            FFmpegLogging.forward(line, level: level)
        }
    }

    /// Silences FFmpeg entirely (the default).
    public static func disable() {
        state.withLock { $0.configured = true }
        av_log_set_level(AV_LOG_QUIET)
    }

    /// Applies the default (quiet) once, unless `enable` or `disable` ran first.
    static func applyDefaultOnce() {
        let needed = state.withLock { s -> Bool in
            defer { s.configured = true }
            return !s.configured
        }
        if needed { av_log_set_level(AV_LOG_QUIET) }
    }

    private static func forward(_ line: String, level: Int32) {
        let now = DispatchTime.now().uptimeNanoseconds
        let (logger, emit, dropped): (Logger, Bool, Int) = state.withLock { s in
            if now &- s.windowStart > 1_000_000_000 {
                s.windowStart = now
                s.linesInWindow = 0
            }
            s.linesInWindow += 1
            if s.linesInWindow > linesPerSecond {
                s.dropped += 1
                return (s.logger, false, 0)
            }
            let dropped = s.dropped
            s.dropped = 0
            return (s.logger, true, dropped)
        }
        guard emit else { return }
        if dropped > 0 { logger.warning("\(dropped) FFmpeg log line(s) dropped (rate limit)") }
        let swiftLevel: Logger.Level = level <= AV_LOG_ERROR ? .error : level <= AV_LOG_WARNING ? .warning : .debug
        logger.log(level: swiftLevel, "\(line)")
    }
}
