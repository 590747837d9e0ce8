import Foundation
import Pipeline

/// Files waiting to be processed. A file is handed out only once its size and
/// mtime have been stable for `stableSeconds` (partial copies are not taken)
/// and its retry back-off has passed; at most `capacity` wait (the periodic
/// rescan catches up with the rest). Files being processed are not queued twice.
public actor WorkQueue {
    struct Item {
        var fingerprint: Sidecar.Fingerprint
        var lastChange: Date
        var notBefore: Date
        var attempts: Int
    }

    let stableSeconds: Double
    let capacity: Int
    private var items: [String: Item] = [:]
    private var inFlight: Set<String> = []
    private var closed = false

    /// What a file's stability is judged by (a followed link's target; WatchConfiguration.fingerprint).
    let fingerprint: @Sendable (String) -> Sidecar.Fingerprint?

    public init(stableSeconds: Double, capacity: Int, fingerprint: @escaping @Sendable (String) -> Sidecar.Fingerprint? = { Sidecar.Fingerprint.of(path: $0) }) {
        self.fingerprint = fingerprint
        self.stableSeconds = stableSeconds
        self.capacity = capacity
    }

    public var waiting: Int { items.count }
    var processing: [String] { inFlight.sorted() }

    /// Notes `path` as seen now; returns false if it was not queued (full, closed, gone).
    @discardableResult
    public func offer(_ path: String, attempts: Int = 0, notBefore: Date = .distantPast) -> Bool {
        guard !closed, !inFlight.contains(path), let fingerprint = fingerprint(path) else { return false }
        if var item = items[path] {
            if item.fingerprint != fingerprint {
                item.fingerprint = fingerprint
                item.lastChange = Date()
            }
            item.attempts = max(item.attempts, attempts)
            item.notBefore = max(item.notBefore, notBefore)
            items[path] = item
            return true
        }
        guard items.count < capacity else { return false }
        items[path] = Item(fingerprint: fingerprint, lastChange: Date(), notBefore: notBefore, attempts: attempts)
        return true
    }

    /// The next stable, due file and its attempt count; nil once closed.
    public func next() async -> (path: String, attempts: Int)? {
        while !closed {
            let now = Date()
            for (path, item) in items.sorted(by: { $0.key < $1.key }) where item.notBefore <= now {
                guard let current = fingerprint(path) else {
                    items[path] = nil  // gone
                    continue
                }
                if current != item.fingerprint {
                    items[path]?.fingerprint = current
                    items[path]?.lastChange = now
                    continue
                }
                if now.timeIntervalSince(item.lastChange) >= stableSeconds {
                    items[path] = nil
                    inFlight.insert(path)
                    return (path, item.attempts)
                }
            }
            try? await Task.sleep(nanoseconds: 200_000_000)
        }
        return nil
    }

    public func finished(_ path: String) { inFlight.remove(path) }

    var closedState: Bool { closed }

    /// Stops handing out work; waiting files stay for the next start.
    public func close() { closed = true }
}
