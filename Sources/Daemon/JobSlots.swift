import Foundation
import Logging
import Pipeline

/// The job slots of a daemon (`--jobs`): one long-lived worker child per slot (WorkerProcess), or the
/// daemon's own process with `--in-process`. Runs one file in a slot and always comes back with a
/// sidecar: the pipeline's, or an error sidecar when the worker died (`worker_crashed`, with how) or
/// overran the job deadline (`timed_out`). Shared by `flamingo watch` and its cluster mode.
public final class JobSlots: @unchecked Sendable {
    let runner: PipelineRunner
    let workers: [WorkerProcess?]
    let jobSeconds: Double
    let maxAttempts: Int
    let logger: Logger

    public init(configuration: WatchConfiguration, runner: PipelineRunner, logger: Logger) {
        self.runner = runner
        self.logger = logger
        jobSeconds = configuration.jobSeconds
        maxAttempts = configuration.maxAttempts
        workers = (0..<max(1, configuration.jobs)).map { _ in
            configuration.workerArguments.map {
                WorkerProcess(arguments: $0, memoryLimitBytes: configuration.workerMemoryBytes, logger: logger)
            }
        }
    }

    public var count: Int { workers.count }

    /// Kills the slot's worker child (its file then comes back as `worker_crashed`); no effect in-process.
    public func abort(slot: Int) {
        if let pid = workers[slot]?.pid { kill(pid, SIGKILL) }
    }

    public func stop() { for worker in workers { worker?.stop() } }

    /// The sidecar of `path` (read by `slot`'s worker) for attempt `attempt`, reported as `name`.
    /// `onDeath` hears why a worker ended without an answer (to persist it before anything else).
    public func sidecar(for path: String, reportedAs name: String, attempt: Int, fingerprint: Sidecar.Fingerprint,
                        slot: Int, onDeath: (String) -> Void = { _ in }) async -> Sidecar {
        let runner = self.runner
        guard let worker = workers[slot] else {
            return await withCheckedContinuation { (continuation: CheckedContinuation<Sidecar, Never>) in
                // Model work is long and CPU-bound: keep it off the cooperative pool.
                DispatchQueue.global().async { continuation.resume(returning: runner.sidecar(for: path, attempts: attempt)) }
            }
        }
        let deadline = jobSeconds
        let outcome = await withCheckedContinuation { (continuation: CheckedContinuation<WorkerProcess.Outcome, Never>) in
            DispatchQueue.global().async { continuation.resume(returning: worker.run(path: path, attempt: attempt, deadlineSeconds: deadline)) }
        }
        switch outcome {
        case let .sidecar(sidecar):
            return sidecar
        case let .died(how):
            let message = "\(name): the worker processing it ended before answering: \(how) (attempt \(attempt) of \(maxAttempts))"
            logger.error("worker died", metadata: ["file": "\(name)", "how": "\(how)", "attempt": "\(attempt)"])
            onDeath("the worker ended before answering: \(how)")
            return runner.errorSidecar(for: name, fingerprint: fingerprint, code: "worker_crashed", message: message, attempts: attempt)
        case let .timedOut(seconds):
            let message = "\(name): no result after \(Int(seconds)) s; the worker was killed (attempt \(attempt) of \(maxAttempts))"
            logger.error("worker timed out", metadata: ["file": "\(name)", "seconds": "\(seconds)"])
            onDeath("no result after \(Int(seconds)) s")
            return runner.errorSidecar(for: name, fingerprint: fingerprint, code: "timed_out", message: message, attempts: attempt)
        }
    }
}
