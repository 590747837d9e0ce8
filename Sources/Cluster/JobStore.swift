import Foundation
import Logging
import Pipeline
import PostgresNIO
import Search

/// The cluster's job queue, leases and results in PostgreSQL (docs/CLUSTER.md). The claim follows the
/// PostgreSQL queues we learn from (River, Oban, graphile-worker: a CTE that locks due rows with
/// FOR UPDATE SKIP LOCKED, then one UPDATE that marks them running and counts the attempt), with a
/// per-job lease extended by heartbeats (pg-boss) and a fencing token checked by every later write
/// (Solid Queue's claim row, made explicit). All times are the database's `now()`, never a host clock.
public final class JobStore: Sendable {
    public let client: PostgresClient
    let logger: Logger

    public init(url: DatabaseURL, logger: Logger) {
        // The pool's own log says every failed connection attempt, and a first query queued before its
        // run loop started, at info and warning levels; our retries say what matters once.
        var poolLogger = Logger(label: "flamingo.postgres")
        poolLogger.logLevel = .error
        client = PostgresClient(configuration: url.configuration, backgroundLogger: poolLogger)
        self.logger = logger
    }

    /// Runs the connection pool; must run (in a task) for as long as the store is used.
    public func run() async { await client.run() }

    /// Creates or migrates the schema; returns the migrations applied.
    @discardableResult
    public func migrate() async throws(ClusterError) -> Int {
        do { return try await ClusterSchema.migrate(client, logger: logger) } catch { throw Self.wrap(error) }
    }

    /// An error thrown inside a transaction's closure, as it was thrown (postgres-nio wraps it in a
    /// PostgresTransactionError); other errors unchanged.
    static func unwrapped(_ error: any Error) -> any Error {
        if let transaction = error as? PostgresTransactionError, let inner = transaction.closureError { return unwrapped(inner) }
        return error
    }

    /// PostgreSQL's own message for a failed statement (or the connection error).
    public static func wrap(_ error: any Error) -> ClusterError {
        let error = unwrapped(error)
        if let cluster = error as? ClusterError { return cluster }
        if let psql = error as? PSQLError {
            if let message = psql.serverInfo?[.message] { return .database(message) }
            return .database("\(psql.code)")
        }
        return .database("\(error)")
    }

    // MARK: Workers

    public func register(worker: String, host: String) async throws(ClusterError) {
        try await execute("""
            INSERT INTO flamingo_workers (id, host, pid) VALUES (\(worker), \(host), \(Int(getpid())))
            ON CONFLICT (id) DO UPDATE SET last_seen = now()
            """)
    }

    public func touch(worker: String) async throws(ClusterError) {
        try await execute("UPDATE flamingo_workers SET last_seen = now() WHERE id = \(worker)")
    }

    // MARK: Queue

    /// Queues `identity` for these pipeline and model hashes unless a job for exactly it exists (N
    /// workers finding one file make one job); a queued, older version of the same path is superseded.
    /// A job that ended without a result because its file was gone or changed is queued again when
    /// the same bytes come back. Returns whether a job was queued (and NOTIFY sent).
    @discardableResult
    public func enqueue(_ identity: VideoIdentity, pipelineHash: String, modelHash: String, maxAttempts: Int,
                        by worker: String) async throws(ClusterError) -> Bool {
        do {
            return try await client.withTransaction(logger: logger) { connection -> Bool in
                var created: Int64?
                for try await id in try await connection.query("""
                    INSERT INTO flamingo_jobs (share, path, size, mtime_ns, content_hash, pipeline_hash, model_hash,
                                               max_attempts, enqueued_by)
                    VALUES (\(identity.share), \(identity.path), \(identity.size), \(identity.mtimeNs),
                            \(identity.contentHash), \(pipelineHash), \(modelHash), \(maxAttempts), \(worker))
                    ON CONFLICT ON CONSTRAINT flamingo_jobs_identity DO UPDATE
                    SET state = 'queued', run_at = now(), attempt = 0, finished_at = NULL
                    WHERE flamingo_jobs.state IN ('gone', 'superseded')
                    RETURNING id
                    """, logger: logger).decode(Int64.self) {
                    created = id
                }
                guard let created else { return false }
                try await connection.query("""
                    UPDATE flamingo_jobs SET state = 'superseded', finished_at = now()
                    WHERE share = \(identity.share) AND path = \(identity.path) AND state = 'queued' AND id <> \(created)
                      AND pipeline_hash = \(pipelineHash) AND model_hash = \(modelHash)
                    """, logger: logger)
                // Delivered at commit, to the workers LISTENing.
                try await connection.query("SELECT pg_notify(\(ClusterSchema.channel), '')", logger: logger)
                return true
            }
        } catch {
            throw Self.wrap(error)
        }
    }

    /// Claims the oldest due job of these shares, pipeline and model for `leaseSeconds`, counting the
    /// attempt; nil when none is due. `waitForLockedRows` is the naive claim (FOR UPDATE without SKIP
    /// LOCKED: concurrent claimers queue behind one row lock), kept as `flamingo bench queue`'s peer.
    public func claim(shares: [String], pipelineHash: String, modelHash: String, worker: String,
                      leaseSeconds: Double, waitForLockedRows: Bool = false) async throws(ClusterError) -> ClaimedJob? {
        var claimed: ClaimedJob?
        do {
            // The naive claim waits on locked rows, and re-checks the state once it has the lock.
            let lock = waitForLockedRows ? "FOR UPDATE" : "FOR UPDATE SKIP LOCKED"
            let recheck = waitForLockedRows ? "AND j.state = 'queued'" : ""
            let rows = try await client.query("""
                WITH due AS (
                    SELECT id FROM flamingo_jobs
                    WHERE state = 'queued' AND run_at <= now() AND share = ANY(\(shares))
                      AND pipeline_hash = \(pipelineHash) AND model_hash = \(modelHash)
                    ORDER BY run_at, id
                    LIMIT 1
                    \(unescaped: lock)
                )
                UPDATE flamingo_jobs AS j
                SET state = 'running', attempt = j.attempt + 1, lease_token = gen_random_uuid(),
                    leased_by = \(worker), lease_expires_at = now() + make_interval(secs => \(leaseSeconds))
                FROM due WHERE j.id = due.id \(unescaped: recheck)
                RETURNING j.id, j.share, j.path, j.size, j.mtime_ns, j.content_hash, j.attempt, j.max_attempts,
                          j.lease_token, j.errors -> -1 ->> 'error'
                """, logger: logger)
            for try await (id, share, path, size, mtime, hash, attempt, maxAttempts, token, lastError)
                in rows.decode((Int64, String, String, Int64, Int64, String, Int, Int, UUID, String?).self) {
                claimed = ClaimedJob(id: id, identity: VideoIdentity(share: share, path: path, size: size, mtimeNs: mtime, contentHash: hash),
                                     attempt: attempt, maxAttempts: maxAttempts, token: token, lastError: lastError)
            }
        } catch {
            throw Self.wrap(error)
        }
        return claimed
    }

    /// Extends the lease; false when the lease is no longer ours (expired and rescued, taken over).
    public func heartbeat(_ job: ClaimedJob, leaseSeconds: Double) async throws(ClusterError) -> Bool {
        try await returnsRow("""
            UPDATE flamingo_jobs SET lease_expires_at = now() + make_interval(secs => \(leaseSeconds))
            WHERE id = \(job.id) AND lease_token = \(job.token) AND state = 'running'
            RETURNING id
            """)
    }

    /// Puts every running job whose lease expired back in the queue (its attempt stays counted; the
    /// next claim past max_attempts ends it with an error sidecar). Any worker may run this: the rows
    /// are taken with SKIP LOCKED, so a job being completed right now is left alone. Returns the jobs
    /// rescued, as `share:path`.
    /// Right after the server itself restarted, every lease looks expired though its workers are alive
    /// and about to heartbeat: nothing is rescued until the server has been up for `leaseSeconds`.
    public func rescueExpiredLeases(leaseSeconds: Double) async throws(ClusterError) -> [String] {
        var rescued: [String] = []
        do {
            for try await (share, path) in try await client.query("""
                WITH expired AS (
                    SELECT id FROM flamingo_jobs
                    WHERE state = 'running' AND lease_expires_at < now()
                      AND now() - pg_postmaster_start_time() > make_interval(secs => \(leaseSeconds))
                    FOR UPDATE SKIP LOCKED
                )
                UPDATE flamingo_jobs AS j
                SET state = 'queued', run_at = now(), lease_token = NULL, lease_expires_at = NULL, leased_by = NULL,
                    errors = \(unescaped: Self.recentErrors("j.errors")) || jsonb_build_array(jsonb_build_object(
                        'attempt', j.attempt, 'worker', j.leased_by, 'at', now(),
                        'error', 'the lease expired: the worker was killed, its host lost or cut off from the database'))
                FROM expired WHERE j.id = expired.id
                RETURNING j.share, j.path
                """, logger: logger).decode((String, String).self) {
                rescued.append("\(share):\(path)")
            }
        } catch {
            throw Self.wrap(error)
        }
        return rescued
    }

    /// Back in the queue after `delaySeconds` (a transient failure), recording `error`; `charge` false
    /// gives the attempt back (the failure was not the video's: a full disk). False if the lease was lost.
    public func requeue(_ job: ClaimedJob, delaySeconds: Double, error: String, worker: String,
                        charge: Bool = true) async throws(ClusterError) -> Bool {
        try await returnsRow("""
            UPDATE flamingo_jobs
            SET state = 'queued', run_at = now() + make_interval(secs => \(delaySeconds)), lease_token = NULL,
                lease_expires_at = NULL, leased_by = NULL, attempt = attempt - \(charge ? 0 : 1),
                errors = \(unescaped: Self.recentErrors("errors")) || jsonb_build_array(jsonb_build_object('attempt', attempt, 'worker', \(worker),
                                                                        'at', now(), 'error', \(error)))
            WHERE id = \(job.id) AND lease_token = \(job.token) AND state = 'running'
            RETURNING id
            """)
    }

    /// Ends the job without a sidecar: the file is `gone`, `superseded` by a newer version of it, or
    /// the job `failed` where its sidecar cannot be written at all (a file that is not ours in the
    /// way). A gone video's results row goes too (search no longer finds it).
    public func end(_ job: ClaimedJob, state: String, reason: String, worker: String) async throws(ClusterError) -> Bool {
        guard ["gone", "superseded", "failed"].contains(state) else { throw .database("a job cannot end as \(state) without a result") }
        if state == "gone" {
            try await execute("DELETE FROM flamingo_results WHERE share = \(job.identity.share) AND path = \(job.identity.path)")
        }
        return try await returnsRow("""
            UPDATE flamingo_jobs
            SET state = \(state), finished_at = now(), lease_token = NULL, lease_expires_at = NULL,
                errors = \(unescaped: Self.recentErrors("errors")) || jsonb_build_array(jsonb_build_object('attempt', attempt, 'worker', \(worker),
                                                                        'at', now(), 'error', \(reason)))
            WHERE id = \(job.id) AND lease_token = \(job.token) AND state = 'running'
            RETURNING id
            """)
    }

    public enum Completion: Sendable, Equatable {
        case published
        /// The lease is no longer ours: nothing was written.
        case leaseLost
    }

    /// Publishes `sidecar` under the lease: in one transaction, the job's row is locked and checked to
    /// still carry our token, `publish` writes the sidecar file (atomically, while the row lock keeps
    /// any other worker from taking the job over), then the results row is upserted and the job
    /// completed. A throw from `publish` rolls everything back and is rethrown.
    public func complete(_ job: ClaimedJob, sidecar: Sidecar, worker: String,
                         publish: @escaping @Sendable () throws -> Void) async throws -> Completion {
        let document = SearchDocument(sidecar)
        let json = String(decoding: try sidecar.encoded(), as: UTF8.self)
        let final = sidecar.status == "ok" ? "done" : "failed"
        do {
            return try await client.withTransaction(logger: logger) { connection -> Completion in
                var held = false
                for try await _ in try await connection.query("""
                    SELECT id FROM flamingo_jobs
                    WHERE id = \(job.id) AND lease_token = \(job.token) AND state = 'running'
                    FOR UPDATE
                    """, logger: logger).decode(Int64.self) {
                    held = true
                }
                guard held else { return .leaseLost }
                // File-system work (fsync, perhaps over NFS) off the cooperative pool, row lock held.
                try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                    DispatchQueue.global().async {
                        do {
                            try publish()
                            continuation.resume()
                        } catch {
                            continuation.resume(throwing: error)
                        }
                    }
                }
                try await connection.query("""
                    INSERT INTO flamingo_results (share, path, job_id, status, sidecar, search_text, written_by)
                    VALUES (\(job.identity.share), \(job.identity.path), \(job.id), \(sidecar.status),
                            CAST(\(json) AS jsonb), \(document.text), \(worker))
                    ON CONFLICT (share, path) DO UPDATE
                    SET job_id = EXCLUDED.job_id, status = EXCLUDED.status, sidecar = EXCLUDED.sidecar,
                        search_text = EXCLUDED.search_text, written_by = EXCLUDED.written_by, written_at = now()
                    """, logger: logger)
                try await connection.query("""
                    UPDATE flamingo_jobs
                    SET state = \(final), completions = completions + 1, finished_at = now(),
                        lease_token = NULL, lease_expires_at = NULL
                    WHERE id = \(job.id)
                    """, logger: logger)
                try await connection.query("""
                    UPDATE flamingo_workers
                    SET done = done + \(final == "done" ? 1 : 0), failed = failed + \(final == "done" ? 0 : 1), last_seen = now()
                    WHERE id = \(worker)
                    """, logger: logger)
                return .published
            }
        } catch {
            if let write = Self.unwrapped(error) as? SidecarWriter.WriteError { throw write }
            throw Self.wrap(error)
        }
    }

    public func noteLostLease(worker: String) async {
        try? await execute("UPDATE flamingo_workers SET lost_leases = lost_leases + 1 WHERE id = \(worker)")
    }

    // MARK: Search and status

    /// Results whose text holds every word of `query` (prefixes match; English stemming), best first
    /// by ts_rank_cd.
    public func search(_ query: String, limit: Int = 20) async throws -> [SearchHit] {
        let words = SearchDocument.words(of: query)
        guard !words.isEmpty else { throw SearchError.emptyQuery(query) }
        let tsquery = words.map { "\($0):*" }.joined(separator: " & ")
        var hits: [SearchHit] = []
        do {
            for try await (share, path, rank, sidecar) in try await client.query("""
                SELECT share, path, ts_rank_cd(search, q)::float8, sidecar::text
                FROM flamingo_results, to_tsquery('english', \(tsquery)) AS q
                WHERE status = 'ok' AND search @@ q
                ORDER BY 3 DESC, share, path
                LIMIT \(limit)
                """, logger: logger).decode((String, String, Double, String).self) {
                let document = (try? JSONDecoder().decode(Sidecar.self, from: Data(sidecar.utf8))).map(SearchDocument.init)
                hits.append(SearchHit(path: "\(share):\(path)", rank: rank, caption: document?.caption,
                                      segments: SearchDocument.matchingSegments(document?.segments ?? [], query: query)))
            }
        } catch {
            throw Self.wrap(error)
        }
        return hits
    }

    public func status(failures: Int = 10) async throws(ClusterError) -> QueueStatus {
        var status = QueueStatus(jobs: [:], waitingForRetry: 0, leases: [], workers: [], recentFailures: [])
        do {
            for try await (state, count) in try await client.query(
                "SELECT state, count(*)::int8 FROM flamingo_jobs GROUP BY state", logger: logger).decode((String, Int).self) {
                status.jobs[state] = count
            }
            for try await count in try await client.query(
                "SELECT count(*)::int8 FROM flamingo_jobs WHERE state = 'queued' AND run_at > now()", logger: logger).decode(Int.self) {
                status.waitingForRetry = count
            }
            for try await (share, path, worker, attempt, expires) in try await client.query("""
                SELECT share, path, coalesce(leased_by, ''), attempt,
                       extract(epoch FROM lease_expires_at - now())::float8
                FROM flamingo_jobs WHERE state = 'running' ORDER BY lease_expires_at
                """, logger: logger).decode((String, String, String, Int, Double).self) {
                status.leases.append(.init(path: "\(share):\(path)", worker: worker, attempt: attempt, expiresInS: expires))
            }
            for try await (id, host, seen, done, failed, lost, running) in try await client.query("""
                SELECT w.id, w.host, extract(epoch FROM now() - w.last_seen)::float8, w.done, w.failed, w.lost_leases,
                       (SELECT count(*)::int8 FROM flamingo_jobs j WHERE j.state = 'running' AND j.leased_by = w.id)
                FROM flamingo_workers w ORDER BY w.last_seen DESC, w.id
                """, logger: logger).decode((String, String, Double, Int, Int, Int, Int).self) {
                status.workers.append(.init(id: id, host: host, lastSeenS: seen, done: done, failed: failed, lostLeases: lost, running: running))
            }
            for try await (share, path, attempts, error, worker) in try await client.query("""
                SELECT j.share, j.path, j.attempt, coalesce(r.sidecar -> 'error' ->> 'message', j.errors -> -1 ->> 'error', ''),
                       coalesce(r.written_by, j.errors -> -1 ->> 'worker')
                FROM flamingo_jobs j LEFT JOIN flamingo_results r ON r.job_id = j.id
                WHERE j.state = 'failed' ORDER BY j.finished_at DESC NULLS LAST LIMIT \(failures)
                """, logger: logger).decode((String, String, Int, String, String?).self) {
                status.recentFailures.append(.init(path: "\(share):\(path)", attempts: attempts, error: error, worker: worker))
            }
        } catch {
            throw Self.wrap(error)
        }
        return status
    }

    /// Jobs of `share` waiting in the queue.
    public func queuedJobs(share: String) async throws(ClusterError) -> Int {
        do {
            var count = 0
            for try await n in try await client.query(
                "SELECT count(*)::int8 FROM flamingo_jobs WHERE share = \(share) AND state = 'queued'", logger: logger).decode(Int.self) {
                count = n
            }
            return count
        } catch {
            throw Self.wrap(error)
        }
    }

    /// Removes the jobs of one share (the queue benchmark's own, never a user's share by accident:
    /// the benchmark's share names start with "bench-").
    public func removeJobs(share: String) async throws(ClusterError) {
        guard share.hasPrefix("bench-") else { throw .database("refusing to remove the jobs of share \(share)") }
        try await execute("DELETE FROM flamingo_jobs WHERE share = \(share)")
    }

    // MARK: Helpers

    /// SQL for a job's error list with its oldest entry dropped once it holds 20 (a job requeued
    /// again and again keeps its latest errors, not an ever-growing array).
    static func recentErrors(_ column: String) -> String {
        "(CASE WHEN jsonb_array_length(\(column)) >= 20 THEN \(column) - 0 ELSE \(column) END)"
    }

    private func execute(_ query: PostgresQuery) async throws(ClusterError) {
        do { try await client.query(query, logger: logger) } catch { throw Self.wrap(error) }
    }

    private func returnsRow(_ query: PostgresQuery) async throws(ClusterError) -> Bool {
        do {
            var found = false
            for try await _ in try await client.query(query, logger: logger).decode(Int64.self) { found = true }
            return found
        } catch {
            throw Self.wrap(error)
        }
    }
}
