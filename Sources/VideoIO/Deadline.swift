import Foundation

/// A wall-clock deadline that FFmpeg's interrupt callback and the decode loop
/// both poll; `cancel()` ends a read early (daemon shutdown).
final class Deadline: @unchecked Sendable {
    let seconds: Double
    private let endNanoseconds: UInt64
    private let lock = NSLock()
    private var cancelled = false

    init(seconds: Double) {
        self.seconds = seconds
        let now = DispatchTime.now().uptimeNanoseconds
        let span = seconds.isFinite && seconds > 0 ? UInt64(min(seconds, 1e9) * 1e9) : UInt64.max / 2
        endNanoseconds = now &+ span
    }

    var isExpired: Bool {
        if lock.withLock({ cancelled }) { return true }
        return DispatchTime.now().uptimeNanoseconds >= endNanoseconds
    }

    func cancel() { lock.withLock { cancelled = true } }
}
