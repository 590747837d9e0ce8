import Foundation

/// Wakes idle job slots: NOTIFY (a job was queued somewhere), a rescued lease or shutdown signal it;
/// a slot waits for the next signal or its poll period, whichever comes first.
actor Wakeup {
    private var generation = 0

    func signal() { generation += 1 }

    /// Returns after a signal or `seconds`.
    func wait(seconds: Double) async {
        let start = generation
        let end = Date().addingTimeInterval(seconds)
        while generation == start, Date() < end, !Task.isCancelled {
            try? await Task.sleep(nanoseconds: 50_000_000)
        }
    }
}
