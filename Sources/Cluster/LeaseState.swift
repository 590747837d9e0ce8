import Foundation

/// Whether a job's lease was found lost (set by its heartbeat task, read by the job), and whether
/// the job has finished (after which a late heartbeat's answer is ignored).
final class LeaseState: @unchecked Sendable {
    private let lock = NSLock()
    private var lost = false
    private var finished = false

    /// Marks the lease lost; false (and nothing marked) once the job has finished.
    func lose() -> Bool {
        lock.withLock {
            guard !finished else { return false }
            lost = true
            return true
        }
    }

    func finish() { lock.withLock { finished = true } }
    var isLost: Bool { lock.withLock { lost } }
}
