import Foundation

/// A job this worker holds a lease on. Every write about it (heartbeat, requeue, completion) names
/// `token`: the database accepts it only while the token is still the job's (fencing; a worker whose
/// lease expired and was taken over gets "lease lost" and must not publish).
public struct ClaimedJob: Sendable, Equatable {
    public var id: Int64
    public var identity: VideoIdentity
    /// 1 for the first claim; a claim past `maxAttempts` means every earlier attempt ended without a
    /// result (the worker was killed, its host lost): the job gets an error sidecar, not another run.
    public var attempt: Int
    public var maxAttempts: Int
    public var token: UUID
    /// The last recorded error of an earlier attempt, if any (why the lease expired, ...).
    public var lastError: String?
}
