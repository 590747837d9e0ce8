import Foundation

/// `flamingo status --database`: the queue, the leases held now, the workers and their counts, and
/// the latest failures.
public struct QueueStatus: Codable, Sendable {
    /// state -> jobs (queued, running, done, failed, gone, superseded).
    public var jobs: [String: Int]
    /// Queued jobs whose back-off has not passed yet.
    public var waitingForRetry: Int
    public var leases: [Lease]
    public var workers: [Worker]
    public var recentFailures: [Failure]

    public struct Lease: Codable, Sendable {
        public var path: String
        public var worker: String
        public var attempt: Int
        /// Seconds until the lease expires (negative: expired, not yet rescued).
        public var expiresInS: Double
        enum CodingKeys: String, CodingKey { case path, worker, attempt, expiresInS = "expires_in_s" }
    }

    public struct Worker: Codable, Sendable {
        public var id: String
        public var host: String
        /// Seconds since its last heartbeat.
        public var lastSeenS: Double
        public var done: Int
        public var failed: Int
        public var lostLeases: Int
        public var running: Int
        enum CodingKeys: String, CodingKey {
            case id, host, lastSeenS = "last_seen_s", done, failed, lostLeases = "lost_leases", running
        }
    }

    public struct Failure: Codable, Sendable {
        public var path: String
        public var attempts: Int
        public var error: String
        public var worker: String?
    }

    enum CodingKeys: String, CodingKey {
        case jobs, waitingForRetry = "waiting_for_retry", leases, workers, recentFailures = "recent_failures"
    }
}
