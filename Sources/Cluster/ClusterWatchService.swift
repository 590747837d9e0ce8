import Daemon
import Foundation
import Logging
import Pipeline
import ServiceLifecycle

/// `flamingo watch DIR... --database URL`: one worker of a cluster that shares inboxes through
/// PostgreSQL (docs/CLUSTER.md). Every worker scans and watches the shared inboxes and *enqueues* the
/// stable files it finds (one job per video identity, however many workers see it); its job slots
/// *claim* due jobs (FOR UPDATE SKIP LOCKED), extend their leases with heartbeats while their worker
/// child runs the pipeline, and publish each sidecar under the lease (fenced by its token). Any worker
/// rescues expired leases (a worker killed, a host lost or cut off), so nothing is lost; LISTEN/NOTIFY
/// wakes idle slots, with polling as the fallback. The database may go away and come back: every
/// statement is retried with back-off, and a finished result waits for it.
public final class ClusterWatchService: Service, @unchecked Sendable {
    let configuration: ClusterConfiguration
    let runner: PipelineRunner
    let logger: Logger
    let notifier: SystemdNotifier
    let store: JobStore
    let watcher: DirectoryWatcher
    /// The stability gate before enqueueing (a file is enqueued once its size and mtime have settled).
    let gate: WorkQueue
    let slots: JobSlots
    let wakeup = Wakeup()
    private let lock = NSLock()
    private var stopping = false
    private var busy: [Int: String] = [:]
    private var lastDatabaseError: Date = .distantPast
    /// Files this worker has queued (or found queued), by path, with the size and mtime they had:
    /// a rescan does not hash and insert them again until they change.
    private var queued: [String: (fingerprint: Sidecar.Fingerprint, at: Date)] = [:]

    public init(configuration: ClusterConfiguration, runner: PipelineRunner, logger: Logger,
                notifier: SystemdNotifier = SystemdNotifier()) throws(ClusterError) {
        for directory in configuration.watch.directories where configuration.shares.locate(directory + "/x") == nil {
            throw .outsideShares(directory)
        }
        self.configuration = configuration
        self.runner = runner
        var logger = logger
        logger[metadataKey: "worker"] = "\(configuration.workerID)"
        self.logger = logger
        self.notifier = notifier
        store = JobStore(url: configuration.database, logger: logger)
        watcher = DirectoryWatcher(configuration: configuration.watch, logger: logger)
        gate = WorkQueue(stableSeconds: configuration.watch.stableSeconds, capacity: configuration.watch.queueCapacity)
        slots = JobSlots(configuration: configuration.watch, runner: runner, logger: logger)
    }

    var isStopping: Bool { lock.withLock { stopping } }

    /// How long one database step may take before it is abandoned and tried again.
    var stepBound: Double { max(10, configuration.leaseSeconds) }

    public func run() async throws {
        // The pool runs detached from the service's graceful shutdown (PostgresClient.run() would stop
        // on it at once): the jobs in progress still need the database to be recorded.
        let pool = Task.detached { [store] in await store.run() }
        defer { pool.cancel() }
        let fatal: ClusterError? = await {
            let fatal = await withGracefulShutdownHandler {
                await work()
            } onGracefulShutdown: { [self] in
                notifier.stopping()
                logger.info("stopping: finishing the jobs in progress", metadata: ["deadline_s": "\(configuration.watch.stopSeconds)"])
                lock.withLock { stopping = true }
                watcher.stop()
                Task { await gate.close(); await wakeup.signal() }
                // Abandon what is still running after the deadline: its lease expires and another
                // worker takes the job; nothing partial was published.
                let logger = self.logger
                DispatchQueue.global().asyncAfter(deadline: .now() + configuration.watch.stopSeconds) {
                    logger.warning("stop deadline passed: abandoning the jobs in progress")
                    exit(0)
                }
            }
            return fatal
        }()
        watcher.stop()
        slots.stop()
        if let fatal { throw fatal }
        logger.info("stopped")
    }

    /// The worker's life; returns an error only for what retrying cannot fix (a schema newer than
    /// this program).
    private func work() async -> ClusterError? {
        // Schema first (every worker may start at once; the migration is serialised in the database).
        var delay = 0.5
        while !isStopping {
            do {
                let applied = try await store.migrate()
                if applied > 0 { logger.info("database schema created or migrated", metadata: ["migrations": "\(applied)"]) }
                try await store.register(worker: configuration.workerID, host: configuration.host)
                break
            } catch ClusterError.schemaTooNew(let found, let known) {
                let error = ClusterError.schemaTooNew(found: found, known: known)
                logger.critical("\(error.localizedDescription)")
                return error
            } catch {
                logger.warning("database not reachable; retrying", metadata: [
                    "database": "\(ClusterError.redacted(configuration.database.text))", "error": "\(error.localizedDescription)",
                    "in_s": "\(delay)"])
                try? await Task.sleep(nanoseconds: UInt64(delay * 1e9))
                delay = min(delay * 2, 10)
            }
        }
        if isStopping { return nil }
        let (events, continuation) = AsyncStream.makeStream(of: WatchEvent.self, bufferingPolicy: .bufferingNewest(65_536))
        watcher.start(continuation)
        let found = await rescan()
        notifier.ready(status: "cluster worker \(configuration.workerID); watching \(configuration.watch.directories.joined(separator: ", "))")
        logger.info("cluster worker started", metadata: [
            "directories": "\(configuration.watch.directories)", "shares": "\(configuration.shares.roots)",
            "found": "\(found)", "pipeline": "\(runner.pipeline.name)", "slots": "\(slots.count)"])

        await withTaskGroup(of: Void.self) { group in
            group.addTask { [self] in
                for await event in events {
                    switch event {
                    case .candidate(let path): await gate.offer(path)
                    case .rescan: _ = await rescan()
                    }
                }
            }
            group.addTask { [self] in
                while !isStopping {
                    try? await Task.sleep(nanoseconds: UInt64(configuration.watch.rescanSeconds * 1e9))
                    if !isStopping { _ = await rescan() }
                }
            }
            group.addTask { [self] in await enqueueStableFiles() }
            group.addTask { [self] in await listen() }
            group.addTask { [self] in await rescueLoop() }
            group.addTask { [self] in await heartbeatLoop() }
            // The slots, in a group of their own: they end when stopping, after their current job
            // (which nothing cancels); then the rest is cancelled.
            let slots = Task { [self] in
                await withTaskGroup(of: Void.self) { inner in
                    for slot in 0..<self.slots.count {
                        inner.addTask { [self] in await slotLoop(slot) }
                    }
                }
            }
            await slots.value
            group.cancelAll()
        }
        return nil
    }

    // MARK: Finding and enqueueing files

    /// Offers every acceptable file without an up-to-date sidecar to the stability gate.
    private func rescan() async -> Int {
        var offered = 0
        for path in watcher.scan() where !isUpToDate(path) && !alreadyQueued(path) {
            if await gate.offer(path) { offered += 1 }
        }
        return offered
    }

    /// Whether `path` has our sidecar for its current size and mtime, this pipeline and this model, and
    /// it is final (success, or an error that will not be retried). The inode is not compared: another
    /// host may have written it through another NFS client.
    func isUpToDate(_ path: String) -> Bool {
        guard let existing = SidecarWriter.existing(Sidecar.path(for: path)) else {
            return FileManager.default.fileExists(atPath: Sidecar.path(for: path))  // not ours: never touched
        }
        guard let now = Sidecar.Fingerprint.of(path: path),
              existing.describes(now, pipeline: runner.pipelineIdentity, model: runner.modelIdentity) else { return false }
        return existing.status == "ok" || !PipelineRunner.isTransient(existing)
            || (existing.error?.attempts ?? 0) >= configuration.watch.maxAttempts
    }

    private func alreadyQueued(_ path: String) -> Bool {
        guard let fingerprint = Sidecar.Fingerprint.of(path: path) else { return false }
        // Remembered for 10 minutes: then queued again (a no-op unless its job ended without a result
        // in a way this worker did not see, such as a host that ended it `gone` by mistake).
        return lock.withLock { queued[path].map { $0.fingerprint == fingerprint && Date().timeIntervalSince($0.at) < 600 } ?? false }
    }

    private func enqueueStableFiles() async {
        while let work = await gate.next() {
            defer { Task { await gate.finished(work.path) } }
            guard !isUpToDate(work.path), !alreadyQueued(work.path), let (share, relative) = configuration.shares.locate(work.path),
                  let fingerprint = Sidecar.Fingerprint.of(path: work.path),
                  let identity = VideoIdentity.of(file: work.path, share: share, relative: relative) else { continue }
            do {
                let created = try await DatabaseTimeout.bounded(stepBound) { [self] in
                    try await store.enqueue(identity, pipelineHash: runner.pipelineIdentity.hash, modelHash: runner.modelIdentity.hash,
                                            maxAttempts: configuration.watch.maxAttempts, by: configuration.workerID)
                }
                if created {
                    logger.info("queued", metadata: ["video": "\(identity.label)"])
                    await wakeup.signal()
                }
                lock.withLock {
                    if queued.count > 1_000_000 { queued.removeAll() }
                    if identity.matches(fingerprint) { queued[work.path] = (fingerprint, Date()) }
                }
            } catch {
                databaseTrouble("cannot queue a file; it is offered again", error)
                await gate.finished(work.path)
                await gate.offer(work.path, notBefore: Date().addingTimeInterval(2))
            }
        }
    }

    // MARK: Wake-ups, rescue, liveness

    /// LISTEN on a dedicated connection; every notification wakes the idle slots. Reconnects with
    /// back-off (the notifications missed meanwhile are covered by polling).
    private func listen() async {
        var delay = 0.5
        while !isStopping && !Task.isCancelled {
            do {
                try await store.client.withConnection { connection in
                    try await connection.listen(on: ClusterSchema.channel) { notifications in
                        delay = 0.5
                        await wakeup.signal()
                        for try await _ in notifications { await wakeup.signal() }
                    }
                }
            } catch {
                if isStopping || Task.isCancelled { return }
                databaseTrouble("LISTEN connection lost; reconnecting", error)
            }
            try? await Task.sleep(nanoseconds: UInt64(delay * 1e9))
            delay = min(delay * 2, 10)
        }
    }

    /// Every half lease: expired leases back to the queue (any worker may do it; rows are taken with
    /// SKIP LOCKED, so two rescuers never fight).
    private func rescueLoop() async {
        while !isStopping && !Task.isCancelled {
            do {
                let rescued = try await DatabaseTimeout.bounded(stepBound) { [self] in
                    try await store.rescueExpiredLeases(leaseSeconds: configuration.leaseSeconds)
                }
                if !rescued.isEmpty {
                    logger.warning("rescued jobs whose lease expired", metadata: ["videos": "\(rescued)"])
                    await wakeup.signal()
                }
            } catch {
                databaseTrouble("cannot rescue expired leases now", error)
            }
            try? await Task.sleep(nanoseconds: UInt64(max(0.5, configuration.leaseSeconds / 2) * 1e9))
        }
    }

    private func heartbeatLoop() async {
        let period = min(5, (notifier.watchdogInterval ?? 10) / 2)
        while !isStopping && !Task.isCancelled {
            let working = lock.withLock { busy.values.sorted() }
            notifier.status("cluster worker; processing \(working.isEmpty ? "nothing" : working.joined(separator: ", "))")
            notifier.watchdog()
            _ = try? await DatabaseTimeout.bounded(stepBound) { [self] in
                try await store.touch(worker: configuration.workerID)
            }
            try? await Task.sleep(nanoseconds: UInt64(period * 1e9))
        }
    }

    /// Logs database trouble at most every 5 s (a restart would otherwise flood the log).
    private func databaseTrouble(_ message: String, _ error: any Error) {
        let now = Date()
        let due = lock.withLock { () -> Bool in
            guard now.timeIntervalSince(lastDatabaseError) > 5 else { return false }
            lastDatabaseError = now
            return true
        }
        if due { logger.warning("\(message)", metadata: ["error": "\(JobStore.wrap(error).localizedDescription)"]) }
    }

    // MARK: Jobs

    private func slotLoop(_ slot: Int) async {
        var delay = 0.5
        while !isStopping {
            let job: ClaimedJob?
            do {
                job = try await DatabaseTimeout.bounded(stepBound) { [self] in
                    try await store.claim(shares: configuration.shares.names, pipelineHash: runner.pipelineIdentity.hash,
                                          modelHash: runner.modelIdentity.hash, worker: configuration.workerID,
                                          leaseSeconds: configuration.leaseSeconds)
                }
                delay = 0.5
            } catch {
                databaseTrouble("cannot claim a job now", error)
                try? await Task.sleep(nanoseconds: UInt64(delay * 1e9))
                delay = min(delay * 2, 10)
                continue
            }
            guard let job else {
                await wakeup.wait(seconds: configuration.pollSeconds)
                continue
            }
            lock.withLock { busy[slot] = job.identity.label }
            await process(job, slot: slot)
            lock.withLock { busy[slot] = nil }
        }
    }

    private func process(_ job: ClaimedJob, slot: Int) async {
        let label = job.identity.label
        guard let path = configuration.shares.path(share: job.identity.share, relative: job.identity.path) else {
            _ = await persist("give the job back") { [self] in
                try await store.requeue(job, delaySeconds: 30, error: "not mounted on \(configuration.host)",
                                        worker: configuration.workerID, charge: false)
            }
            return
        }
        removeTemporaryFiles(of: path)
        // Heartbeats while the job runs; a lease found lost stops the worker's child at once.
        let lease = LeaseState()
        let heartbeat = Task { [self, slots] in
            while !Task.isCancelled {
                try? await Task.sleep(nanoseconds: UInt64(configuration.leaseSeconds / 3 * 1e9))
                if Task.isCancelled { return }
                do {
                    let held = try await DatabaseTimeout.bounded(stepBound) { [self] in
                        try await store.heartbeat(job, leaseSeconds: configuration.leaseSeconds)
                    }
                    // A heartbeat answered after the job finished (its completion cleared the token)
                    // says nothing about the slot's next job.
                    if !held, lease.lose() {
                        slots.abort(slot: slot)
                        return
                    }
                } catch {
                    databaseTrouble("cannot extend a lease now", error)
                }
            }
        }
        defer {
            lease.finish()
            heartbeat.cancel()
        }

        guard let fingerprint = await currentFile(job, path: path, gone: "is gone", changed: "changed after it was queued") else { return }
        if isUpToDate(path), let existing = SidecarWriter.existing(Sidecar.path(for: path)) {
            // Written under an earlier lease whose completion never reached the database: record it.
            logger.info("sidecar already written; recording it", metadata: ["video": "\(label)"])
            await publish(existing, job: job, path: path, lease: lease, write: false)
            return
        }
        if job.attempt > job.maxAttempts {
            let reason = job.lastError ?? "the worker stopped while it was processed"
            logger.error("giving up: every attempt ended without a result", metadata: ["video": "\(label)", "attempts": "\(job.maxAttempts)"])
            let sidecar = runner.errorSidecar(for: path, fingerprint: fingerprint, code: "worker_crashed",
                                              message: "\(label): gave up after \(job.maxAttempts) attempt(s) that ended without a result: \(reason)",
                                              attempts: job.maxAttempts)
            await publish(sidecar, job: job, path: path, lease: lease)
            return
        }
        logger.info("processing", metadata: ["video": "\(label)", "attempt": "\(job.attempt)"])
        let sidecar = await slots.sidecar(for: path, reportedAs: path, attempt: job.attempt, fingerprint: fingerprint, slot: slot)
        if lease.isLost {
            await store.noteLostLease(worker: configuration.workerID)
            logger.warning("lease lost while processing: another worker has the job; result discarded", metadata: ["video": "\(label)"])
            return
        }
        guard await currentFile(job, path: path, gone: "was removed while it was processed",
                                changed: "changed while it was processed") != nil else { return }
        if sidecar.status != "ok", PipelineRunner.isTransient(sidecar), job.attempt < job.maxAttempts {
            let delay = configuration.watch.retryBaseSeconds * pow(2, Double(job.attempt - 1))
            logger.warning("transient failure, will retry", metadata: ["video": "\(label)", "in_s": "\(delay)",
                                                                       "error": "\(sidecar.error?.message ?? "")"])
            _ = await persist("requeue a job") { [self] in
                try await store.requeue(job, delaySeconds: delay, error: sidecar.error?.message ?? "transient failure",
                                        worker: configuration.workerID)
            }
            return
        }
        await publish(sidecar, job: job, path: path, lease: lease)
    }

    /// The fenced publication (JobStore.complete), retried while the database is away: the lease is
    /// held by its token, not by time, so a result finished during an outage is still published unless
    /// another worker has taken the job meanwhile.
    private func publish(_ sidecar: Sidecar, job: ClaimedJob, path: String, lease: LeaseState, write: Bool = true) async {
        let label = job.identity.label
        let outcome: JobStore.Completion?
        do {
            outcome = try await persistThrowing("publish a result") { [self] in
                try await store.complete(job, sidecar: sidecar, worker: configuration.workerID) {
                    if write { try SidecarWriter.publish(sidecar, for: path) }
                }
            }
        } catch SidecarWriter.WriteError.videoChanged {
            await end(job, state: "superseded", reason: "\(label): the file changed while it was processed")
            return
        } catch let SidecarWriter.WriteError.notOurs(sidecarPath) {
            logger.error("a file named like our sidecar exists and is not ours; leaving both alone", metadata: ["video": "\(label)"])
            await end(job, state: "failed", reason: "\(sidecarPath): exists and was not written by flamingo")
            return
        } catch let SidecarWriter.WriteError.unavailable(_, reason) {
            logger.warning("cannot write the sidecar now; the job is queued again", metadata: ["video": "\(label)", "reason": "\(reason)"])
            _ = await persist("requeue a job") { [self] in
                try await store.requeue(job, delaySeconds: 30, error: "cannot write the sidecar: \(reason)", worker: configuration.workerID, charge: false)
            }
            return
        } catch {
            logger.error("cannot write the sidecar", metadata: ["video": "\(label)", "error": "\(error.localizedDescription)"])
            _ = await persist("requeue a job") { [self] in
                try await store.requeue(job, delaySeconds: configuration.watch.retryBaseSeconds, error: error.localizedDescription,
                                        worker: configuration.workerID)
            }
            return
        }
        switch outcome {
        case .published?:
            if sidecar.status == "ok" {
                logger.info("done", metadata: ["video": "\(label)", "seconds": "\(sidecar.timings?.totalS ?? 0)"])
            } else {
                logger.error("failed", metadata: ["video": "\(label)", "error": "\(sidecar.error?.message ?? "")"])
            }
        case .leaseLost?:
            await store.noteLostLease(worker: configuration.workerID)
            logger.warning("lease lost before publishing: another worker has the job; result discarded", metadata: ["video": "\(label)"])
        case nil:
            logger.warning("stopped before the result could be recorded; the job will be redone", metadata: ["video": "\(label)"])
        }
    }

    /// The file's fingerprint while it still has the job's size and mtime; otherwise the job is ended
    /// (`gone`, or `superseded`: the scan queues the new bytes) and nil.
    private func currentFile(_ job: ClaimedJob, path: String, gone: String, changed: String) async -> Sidecar.Fingerprint? {
        guard let fingerprint = Sidecar.Fingerprint.of(path: path) else {
            await endMissing(job, path: path, reason: "\(job.identity.label): the file \(gone)")
            return nil
        }
        guard job.identity.matches(fingerprint) else {
            await end(job, state: "superseded", reason: "\(job.identity.label): the file \(changed)")
            return nil
        }
        return fingerprint
    }

    /// The job's file cannot be found. Gone only if its directory is there (the share is mounted and
    /// answering); a missing directory or any error but ENOENT (a lost mount, a stale NFS handle) is
    /// this host's problem: the job goes back to the queue, uncharged, for a host that sees the file.
    private func endMissing(_ job: ClaimedJob, path: String, reason: String) async {
        var st = stat()
        let missing = lstat(path, &st) != 0 && errno == ENOENT
        let directory = (path as NSString).deletingLastPathComponent
        var directoryStat = stat()
        if missing, lstat(directory, &directoryStat) == 0, (directoryStat.st_mode & S_IFMT) == S_IFDIR {
            await end(job, state: "gone", reason: reason)
            return
        }
        logger.error("the file's directory cannot be read on this host (share not mounted?); job given back",
                     metadata: ["video": "\(job.identity.label)", "directory": "\(directory)"])
        _ = await persist("give a job back") { [self] in
            try await store.requeue(job, delaySeconds: 30, error: "\(directory): not readable on \(configuration.host)",
                                    worker: configuration.workerID, charge: false)
        }
    }

    private func end(_ job: ClaimedJob, state: String, reason: String) async {
        let what = ["gone": "file gone; job ended", "superseded": "file changed; job superseded"][state] ?? "job failed without a sidecar"
        logger.info("\(what)", metadata: ["video": "\(job.identity.label)"])
        _ = await persist("end a job") { [self] in
            try await store.end(job, state: state, reason: reason, worker: configuration.workerID)
        }
    }

    /// Runs a database step until it succeeds; nil if the worker stops first (the lease then expires
    /// and the job is redone elsewhere).
    private func persist<T: Sendable>(_ what: String, _ step: @escaping @Sendable () async throws -> T) async -> T? {
        try? await persistThrowing(what, step)
    }

    /// As `persist`, but errors that are not the database's (a sidecar that cannot be written) are thrown.
    private func persistThrowing<T: Sendable>(_ what: String, _ step: @escaping @Sendable () async throws -> T) async throws -> T? {
        var delay = 0.25
        let giveUp = Date().addingTimeInterval(configuration.watch.stopSeconds)
        while true {
            do {
                // A step that hangs (a connection half-gone) is abandoned and tried again.
                return try await DatabaseTimeout.bounded(max(10, configuration.leaseSeconds), step)
            } catch let error as SidecarWriter.WriteError {
                throw error
            } catch {
                if Task.isCancelled { return nil }
                databaseTrouble("cannot \(what) now; retrying", error)
                if isStopping && Date() > giveUp { return nil }
                try? await Task.sleep(nanoseconds: UInt64(delay * 1e9))
                delay = min(delay * 2, 5)
            }
        }
    }

    /// Temporary files of `path`'s sidecar left by a worker killed mid-write. Only the holder of the
    /// video's lease writes them, and that is us now.
    private func removeTemporaryFiles(of path: String) {
        let directory = (path as NSString).deletingLastPathComponent
        let names = [Sidecar.path(for: path), Sidecar.subtitlePath(for: path)].map { ($0 as NSString).lastPathComponent }
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        where entry.hasPrefix(SidecarWriter.temporaryPrefix) {
            // SidecarWriter's names: PREFIX + PID-RANDOM-TARGET, exactly (another video's name may end like ours).
            let parts = entry.dropFirst(SidecarWriter.temporaryPrefix.count).split(separator: "-", maxSplits: 2)
            guard parts.count == 3, parts[0].allSatisfy(\.isNumber), parts[1].allSatisfy(\.isNumber),
                  names.contains(String(parts[2])) else { continue }
            try? FileManager.default.removeItem(atPath: (directory as NSString).appendingPathComponent(entry))
        }
    }
}
