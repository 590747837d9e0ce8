import ArgumentParser
import Cluster
import Foundation
import Logging

/// `flamingo bench queue`: the cluster queue's own cost, with no model work: how fast jobs are
/// queued, how many jobs per second N idle workers claim and complete with our claim (FOR UPDATE SKIP
/// LOCKED) against the naive claim that waits on row locks (the peer, same jobs, same run), and how long
/// a job abandoned by a killed worker waits before another worker has it (the lease, plus up to half
/// a lease for the next rescue). Its jobs live under a share of its own ("bench-..."), removed at the end.
struct BenchQueueCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "queue",
        abstract: "Claim throughput of the PostgreSQL job queue and recovery time after a worker is killed.")

    @Option(help: ArgumentHelp("The database (default: $FLAMINGO_DATABASE_URL).", valueName: "postgres://USER@HOST/DB"))
    var database: String?

    @Option(help: "Concurrent workers claiming.")
    var workers: Int = 8

    @Option(help: "Jobs per claim run.")
    var jobs: Int = 2000

    @Option(help: "Lease of the recovery measurement, seconds.")
    var leaseSeconds: Double = 2

    func validate() throws {
        guard workers >= 1, jobs >= 1, leaseSeconds > 0 else { throw ValidationError("--workers, --jobs and --lease-seconds must be positive") }
    }

    func run() async throws {
        guard let url = DatabaseSession.url(database) else {
            throw CLIError("bench queue needs a database: --database postgres://... or FLAMINGO_DATABASE_URL")
        }
        var database: DatabaseURL
        do { database = try DatabaseURL(url) } catch { throw CLIError(error.localizedDescription) }
        database.configuration.options.maximumConnections = workers + 2
        let store = JobStore(url: database, logger: Logger(label: "flamingo.bench"))
        let (workers, jobs, lease) = (self.workers, self.jobs, leaseSeconds)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await store.run() }
            defer { group.cancelAll() }
            do {
                try await store.migrate()
                print("queue benchmark: \(ClusterError.redacted(url)), \(workers) workers, \(jobs) jobs per run, no model work")
                let skip = try await Self.claimRun(store, workers: workers, jobs: jobs, waitForLockedRows: false)
                let naive = try await Self.claimRun(store, workers: workers, jobs: jobs, waitForLockedRows: true)
                print(String(format: "queue: %.0f jobs/s (one connection, INSERT ... ON CONFLICT DO NOTHING + NOTIFY)", skip.enqueue))
                print(String(format: "claim + finish (a fenced UPDATE), FOR UPDATE SKIP LOCKED (ours): %.0f jobs/s", skip.claim))
                print(String(format: "claim + finish, FOR UPDATE waiting on locks (naive peer): %.0f jobs/s: ours %.2fx",
                             naive.claim, skip.claim / naive.claim))
                let recovery = try await Self.recovery(store, leaseSeconds: lease)
                print(String(format: "recovery after a worker is killed holding a %.1f s lease: re-claimed after %.2f s (lease + up to half a lease)",
                             lease, recovery))
            } catch {
                throw CLIError((error as? any LocalizedError)?.errorDescription ?? "\(error)")
            }
        }
    }

    /// Queues `jobs` jobs, then `workers` concurrent loops claim and complete them until none is left.
    static func claimRun(_ store: JobStore, workers: Int, jobs: Int, waitForLockedRows: Bool) async throws
        -> (enqueue: Double, claim: Double) {
        let share = "bench-\(UUID().uuidString.prefix(8).lowercased())"
        let enqueueStart = Date()
        for i in 0..<jobs {
            let identity = VideoIdentity(share: share, path: "clip-\(i).mp4", size: Int64(i), mtimeNs: 0, contentHash: "bench")
            try await store.enqueue(identity, pipelineHash: "bench", modelHash: "bench", maxAttempts: 3, by: "bench")
        }
        let enqueueRate = Double(jobs) / Date().timeIntervalSince(enqueueStart)
        let claimStart = Date()
        let done = try await withThrowingTaskGroup(of: Int.self) { group in
            for w in 0..<workers {
                group.addTask {
                    var count = 0
                    while true {
                        guard let job = try await store.claim(shares: [share], pipelineHash: "bench", modelHash: "bench", worker: "bench-\(w)",
                                                              leaseSeconds: 60, waitForLockedRows: waitForLockedRows) else {
                            // The naive claim comes back empty-handed when the row it waited for was
                            // taken meanwhile: it polls again while jobs are left.
                            if try await store.queuedJobs(share: share) == 0 { return count }
                            continue
                        }
                        _ = try await store.end(job, state: "gone", reason: "benchmark", worker: "bench-\(w)")
                        count += 1
                    }
                }
            }
            return try await group.reduce(0, +)
        }
        let claimRate = Double(done) / Date().timeIntervalSince(claimStart)
        try await store.removeJobs(share: share)
        guard done == jobs else { throw CLIError("claimed \(done) of \(jobs) jobs") }
        return (enqueueRate, claimRate)
    }

    /// A job claimed and abandoned (as by a worker killed with -9); a second worker rescues expired
    /// leases every half lease, as `flamingo watch --database` does, and polls for due jobs.
    static func recovery(_ store: JobStore, leaseSeconds: Double) async throws -> Double {
        let share = "bench-\(UUID().uuidString.prefix(8).lowercased())"
        let identity = VideoIdentity(share: share, path: "killed.mp4", size: 1, mtimeNs: 0, contentHash: "bench")
        try await store.enqueue(identity, pipelineHash: "bench", modelHash: "bench", maxAttempts: 3, by: "bench")
        guard try await store.claim(shares: [share], pipelineHash: "bench", modelHash: "bench", worker: "killed",
                                    leaseSeconds: leaseSeconds) != nil else { throw CLIError("the job was not claimed") }
        let killed = Date()
        var lastRescue = Date.distantPast
        while Date().timeIntervalSince(killed) < leaseSeconds * 4 + 10 {
            if Date().timeIntervalSince(lastRescue) >= leaseSeconds / 2 {
                _ = try await store.rescueExpiredLeases(leaseSeconds: leaseSeconds)
                lastRescue = Date()
            }
            if try await store.claim(shares: [share], pipelineHash: "bench", modelHash: "bench", worker: "survivor",
                                     leaseSeconds: leaseSeconds) != nil {
                let seconds = Date().timeIntervalSince(killed)
                try await store.removeJobs(share: share)
                return seconds
            }
            try await Task.sleep(nanoseconds: 50_000_000)
        }
        throw CLIError("the abandoned job was not re-claimed")
    }
}
