import Foundation

/// A database step that took longer than its bound (a connection that hangs instead of failing).
struct DatabaseTimeout: Error, LocalizedError {
    let seconds: Double
    var errorDescription: String? { "no answer from the database within \(Int(seconds)) s" }

    /// `step`'s result, or a DatabaseTimeout after `seconds`. The step runs in a task of its own and
    /// is cancelled on timeout; a query that ignores cancellation is left behind (its connection
    /// ends with the server's or the kernel's keepalive), not waited for.
    static func bounded<T: Sendable>(_ seconds: Double, _ step: @escaping @Sendable () async throws -> T) async throws -> T {
        let gate = ResumeOnce<T>()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
                gate.set(continuation)
                let work = Task {
                    do { gate.resume(.success(try await step())) } catch { gate.resume(.failure(error)) }
                }
                Task {
                    try? await Task.sleep(nanoseconds: UInt64(seconds * 1e9))
                    if gate.resume(.failure(DatabaseTimeout(seconds: seconds))) { work.cancel() }
                }
                gate.onCancel = { work.cancel() }
            }
        } onCancel: {
            gate.resume(.failure(CancellationError()))
            gate.cancelWork()
        }
    }
}

/// Resumes a continuation once, whoever comes first (the step, the timer, cancellation).
private final class ResumeOnce<T: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var continuation: CheckedContinuation<T, any Error>?
    private var pending: Result<T, any Error>?
    private var done = false
    var onCancel: (@Sendable () -> Void)? {
        get { lock.withLock { cancel } }
        set { lock.withLock { cancel = newValue } }
    }
    private var cancel: (@Sendable () -> Void)?

    func set(_ continuation: CheckedContinuation<T, any Error>) {
        let early = lock.withLock { () -> Result<T, any Error>? in
            if let pending { self.pending = nil; return pending }
            self.continuation = continuation
            return nil
        }
        if let early { continuation.resume(with: early) }
    }

    /// True if this call resumed it.
    @discardableResult
    func resume(_ result: Result<T, any Error>) -> Bool {
        let target = lock.withLock { () -> CheckedContinuation<T, any Error>?? in
            guard !done else { return .none }
            done = true
            if let continuation { self.continuation = nil; return .some(continuation) }
            pending = result  // before set(): delivered there
            return .some(nil)
        }
        switch target {
        case .none: return false
        case .some(let continuation?): continuation.resume(with: result); return true
        case .some(nil): return true
        }
    }

    func cancelWork() { onCancel?() }
}
