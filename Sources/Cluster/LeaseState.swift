import Foundation

/// Whether a job's lease was found lost (set by its heartbeat task, read by the job).
final class LeaseState: @unchecked Sendable {
    private let lock = NSLock()
    private var lost = false
    func lose() { lock.withLock { lost = true } }
    var isLost: Bool { lock.withLock { lost } }
}
