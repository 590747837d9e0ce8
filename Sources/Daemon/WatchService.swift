import Foundation
import Logging
import Pipeline
import ServiceLifecycle

/// The watch-folder daemon as a swift-service-lifecycle `Service`: a startup
/// scan and periodic rescans catch files added while it was down or missed;
/// inotify (or polling) events queue new files; `jobs` workers process stable
/// files and write sidecars atomically. A file whose sidecar matches its
/// fingerprint, the pipeline and the model is skipped, so restarts never redo
/// work. Graceful shutdown (SIGTERM) stops taking files and lets the current
/// ones finish; systemd hears READY, STATUS, WATCHDOG and STOPPING.
public final class WatchService: Service, @unchecked Sendable {
    let configuration: WatchConfiguration
    let runner: PipelineRunner
    let logger: Logger
    let notifier: SystemdNotifier
    let watcher: DirectoryWatcher
    let queue: WorkQueue
    private let progressLock = NSLock()
    private var lastProgress = Date()
    private var busySince: [String: Date] = [:]
    private var locks: [DirectoryLock] = []
    let ledger: AttemptLedger
    /// Finished sidecars the file system refused to take for now (full, read-only): written when the
    /// file comes up again with the same bytes, without redoing the work. Path -> (sidecar, retries).
    private var pending: [String: (sidecar: Sidecar, retries: Int)] = [:]
    /// One worker child process per job slot (or in-process).
    let slots: JobSlots

    public init(configuration: WatchConfiguration, runner: PipelineRunner, logger: Logger,
                notifier: SystemdNotifier = SystemdNotifier()) throws {
        self.configuration = configuration
        self.runner = runner
        self.logger = logger
        self.notifier = notifier
        watcher = DirectoryWatcher(configuration: configuration, logger: logger)
        queue = WorkQueue(stableSeconds: configuration.stableSeconds, capacity: configuration.queueCapacity,
                          fingerprint: { [configuration] in configuration.fingerprint(of: $0) })
        locks = try configuration.directories.map { try DirectoryLock(path: $0) }
        ledger = AttemptLedger(directories: configuration.directories)
        slots = JobSlots(configuration: configuration, runner: runner, logger: logger)
    }

    public func run() async throws {
        removeStaleTemporaryFiles()
        let (events, continuation) = AsyncStream.makeStream(of: WatchEvent.self, bufferingPolicy: .bufferingNewest(65_536))
        watcher.start(continuation)
        let queued = await rescan()
        notifier.ready(status: "watching \(configuration.directories.joined(separator: ", ")); \(queued) file(s) queued")
        logger.info("watching", metadata: ["directories": "\(configuration.directories)", "queued": "\(queued)",
                                           "pipeline": "\(runner.pipeline.name)"])

        await withGracefulShutdownHandler {
            await withTaskGroup(of: Void.self) { group in
                group.addTask { [self] in
                    for await event in events {
                        switch event {
                        case .candidate(let path): await queue.offer(path)
                        case .rescan: _ = await rescan()
                        }
                    }
                }
                group.addTask { [self] in
                    while !Task.isCancelled {
                        try? await Task.sleep(nanoseconds: UInt64(configuration.rescanSeconds * 1e9))
                        if await queue.isClosed { break }
                        _ = await rescan()
                    }
                }
                group.addTask { [self] in await heartbeat() }
                for slot in 0..<max(1, configuration.jobs) {
                    group.addTask { [self] in
                        while let work = await queue.next() {
                            await process(work.path, attempts: work.attempts, slot: slot)
                            await queue.finished(work.path)
                        }
                    }
                }
                // Workers end when the queue closes; then stop the rest.
                await group.next()
                group.cancelAll()
            }
        } onGracefulShutdown: { [self] in
            notifier.stopping()
            logger.info("stopping: finishing the files in progress", metadata: ["deadline_s": "\(configuration.stopSeconds)"])
            watcher.stop()
            Task { await queue.close() }
            // Abandon what is still running after the deadline. Sidecars are only
            // written (atomically) after a file is done, so nothing partial remains.
            let logger = self.logger
            DispatchQueue.global().asyncAfter(deadline: .now() + configuration.stopSeconds) {
                logger.warning("stop deadline passed: abandoning the files in progress")
                exit(0)
            }
        }
        watcher.stop()
        slots.stop()
        logger.info("stopped")
    }

    /// Queues every acceptable file that has no up-to-date sidecar.
    func rescan() async -> Int {
        var queued = 0
        for path in watcher.scan() where !isUpToDate(path) {
            if await queue.offer(path) { queued += 1 }
        }
        return queued
    }

    /// Whether `path` already has our sidecar for these exact bytes, pipeline and model
    /// (or a final error for them).
    func isUpToDate(_ path: String) -> Bool {
        let sidecarPath = Sidecar.path(for: path)
        guard FileManager.default.fileExists(atPath: sidecarPath) else { return false }
        guard let existing = SidecarWriter.existing(sidecarPath) else { return true }  // not ours: never touched
        guard let fingerprint = configuration.fingerprint(of: path) else { return true }
        guard existing.video.fingerprint == fingerprint, existing.pipeline == runner.pipelineIdentity,
              existing.model == runner.modelIdentity else { return false }
        if existing.status == "ok" { return true }
        return !PipelineRunner.isTransient(existing) || (existing.error?.attempts ?? 0) >= configuration.maxAttempts
    }

    private func process(_ path: String, attempts: Int, slot: Int) async {
        guard !isUpToDate(path) else { return }
        if FileManager.default.fileExists(atPath: Sidecar.path(for: path)) && !SidecarWriter.mayReplace(Sidecar.path(for: path)) {
            logger.error("a file named like our sidecar exists and is not ours; leaving both alone", metadata: ["file": "\(path)"])
            return
        }
        mark(path, busy: true)
        defer { mark(path, busy: false) }
        guard let fingerprint = configuration.fingerprint(of: path) else { return }  // gone, or a link not to be followed
        // Attempts on these bytes that started and never finished (the daemon or its worker was killed)
        // count too, across restarts.
        let attempt = max(attempts, ledger.attempts(for: path, fingerprint: fingerprint)) + 1
        if attempt > configuration.maxAttempts {
            let reason = ledger.lastError(for: path) ?? "the daemon stopped while it was processed (killed or crashed)"
            logger.error("giving up: every attempt ended without a result", metadata: ["file": "\(path)", "attempts": "\(attempt - 1)"])
            await write(errorSidecar(path, fingerprint: fingerprint, code: "worker_crashed",
                                     message: "\(path): gave up after \(attempt - 1) attempt(s) that ended without a result: \(reason)",
                                     attempts: attempt - 1), for: path)
            return
        }
        if let ready = progressLock.withLock({ pending[path] }), ready.sidecar.video.fingerprint == fingerprint {
            logger.info("writing the sidecar that could not be written before", metadata: ["file": "\(path)"])
            await write(ready.sidecar, for: path)
            return
        }
        do {
            try ledger.begin(path, fingerprint: fingerprint, attempt: attempt)
        } catch {
            logger.warning("cannot record the attempt; processing anyway", metadata: ["file": "\(path)", "error": "\(error.localizedDescription)"])
        }
        logger.info("processing", metadata: ["file": "\(path)", "attempt": "\(attempt)"])
        let sidecar = await run(path, attempt: attempt, fingerprint: fingerprint, slot: slot)
        if sidecar.status != "ok", PipelineRunner.isTransient(sidecar), attempt < configuration.maxAttempts {
            let delay = configuration.retryBaseSeconds * pow(2, Double(attempt - 1))
            logger.warning("transient failure, will retry", metadata: ["file": "\(path)", "in_s": "\(delay)",
                                                                       "error": "\(sidecar.error?.message ?? "")"])
            await queue.finished(path)
            await queue.offer(path, attempts: attempt, notBefore: Date().addingTimeInterval(delay))
            return
        }
        await write(sidecar, for: path)
    }

    /// The file's sidecar from its job slot's worker (or in this process without isolation). A worker
    /// that dies or hangs gives an error sidecar: `worker_crashed` (with how it ended) or `timed_out`.
    private func run(_ path: String, attempt: Int, fingerprint: Sidecar.Fingerprint, slot: Int) async -> Sidecar {
        // A followed link is read through its resolved target (checked to be inside a watched directory),
        // so that a link changed after the check cannot point the reader elsewhere; the sidecar is the link's.
        let target = configuration.followedTarget(of: path)
        var sidecar = await run(target ?? path, attempt: attempt, fingerprint: fingerprint, slot: slot, reportedAs: path)
        if target != nil { sidecar.video.file = (path as NSString).lastPathComponent }
        return sidecar
    }

    private func run(_ path: String, attempt: Int, fingerprint: Sidecar.Fingerprint, slot: Int, reportedAs name: String) async -> Sidecar {
        await slots.sidecar(for: path, reportedAs: name, attempt: attempt, fingerprint: fingerprint, slot: slot) { [ledger] reason in
            try? ledger.record(name, error: reason)
        }
    }

    private func errorSidecar(_ path: String, fingerprint: Sidecar.Fingerprint, code: String, message: String, attempts: Int) -> Sidecar {
        runner.errorSidecar(for: path, fingerprint: fingerprint, code: code, message: message, attempts: attempts)
    }

    /// Writes the file's final sidecar (and subtitles) and forgets its attempts.
    private func write(_ sidecar: Sidecar, for path: String) async {
        do {
            try SidecarWriter.publish(sidecar, for: path)
            progressLock.withLock { pending[path] = nil }
            try? ledger.finish(path)
            if sidecar.status == "ok" {
                logger.info("done", metadata: ["file": "\(path)", "seconds": "\(sidecar.timings?.totalS ?? 0)"])
            } else {
                logger.error("failed", metadata: ["file": "\(path)", "error": "\(sidecar.error?.message ?? "")"])
            }
        } catch let SidecarWriter.WriteError.unavailable(_, reason) {
            // The work is done; only the file system said no (full, read-only). Keep the result, try again
            // with back-off (5 s doubling to a minute), never charging the file an attempt for it.
            try? ledger.finish(path)
            let retries = progressLock.withLock { () -> Int in
                let retries = (pending[path]?.retries ?? -1) + 1
                pending[path] = (sidecar, retries)
                return retries
            }
            let delay = min(60, configuration.retryBaseSeconds * pow(2, Double(min(retries, 6))))
            logger.warning("cannot write the sidecar now; will retry", metadata: ["file": "\(path)", "reason": "\(reason)", "in_s": "\(delay)"])
            await queue.finished(path)
            await queue.offer(path, notBefore: Date().addingTimeInterval(delay))
        } catch SidecarWriter.WriteError.videoChanged {
            progressLock.withLock { pending[path] = nil }
            try? ledger.finish(path)
            logger.info("changed while processed; will redo", metadata: ["file": "\(path)"])
            await queue.finished(path)
            await queue.offer(path)
        } catch {
            logger.error("cannot write the sidecar", metadata: ["file": "\(path)", "error": "\(error.localizedDescription)"])
        }
    }

    private func mark(_ path: String, busy: Bool) {
        progressLock.withLock {
            busySince[path] = busy ? Date() : nil
            lastProgress = Date()
        }
    }

    /// STATUS every few seconds; WATCHDOG=1 only while no file has been in
    /// progress for longer than the reader's deadline (work is progressing).
    private func heartbeat() async {
        let period = min(5, (notifier.watchdogInterval ?? 10) / 2)
        let stuckAfter = runner.limits.deadlineSeconds + 60
        while !Task.isCancelled {
            let waiting = await queue.waiting
            let (busy, oldest) = progressLock.withLock { (busySince.keys.sorted(), busySince.values.min()) }
            notifier.status("queue \(waiting); processing \(busy.isEmpty ? "nothing" : busy.joined(separator: ", "))")
            if oldest.map({ Date().timeIntervalSince($0) < stuckAfter }) ?? true { notifier.watchdog() }
            try? await Task.sleep(nanoseconds: UInt64(period * 1e9))
        }
    }

    /// Our temporary files left by a process killed mid-write.
    private func removeStaleTemporaryFiles() {
        for directory in configuration.directories {
            let enumerator = FileManager.default.enumerator(atPath: directory)
            while let entry = enumerator?.nextObject() as? String {
                let name = (entry as NSString).lastPathComponent
                if !configuration.recursive && entry.contains("/") { continue }
                if name.hasPrefix(SidecarWriter.temporaryPrefix) {
                    try? FileManager.default.removeItem(atPath: (directory as NSString).appendingPathComponent(entry))
                }
            }
        }
    }
}

extension WorkQueue {
    var isClosed: Bool { get async { await closedState } }
}
