import Foundation
import Logging
import Pipeline

/// One job slot's child process: `flamingo worker` (the same binary, a hidden subcommand) with the
/// pipeline and model loaded once, taking one file at a time over a pipe. A decoder crash, an
/// out-of-memory kill or a hang ends the child, not the daemon: the job comes back as `.died` or
/// `.timedOut`, and the next job starts a fresh child (docs/DAEMON.md, "Crash isolation").
///
/// Protocol: the daemon writes one JSON line `{"path": ..., "attempt": n}`; the worker answers with
/// the sidecar's byte count on a line, then the sidecar's JSON. Its logs go to stderr (the daemon's).
public final class WorkerProcess: @unchecked Sendable {
    public enum Outcome: Sendable {
        case sidecar(Sidecar)
        /// The child ended before answering: "killed by signal 9 (SIGKILL)" or "exited with status 1".
        case died(String)
        /// No answer within the deadline; the child was killed.
        case timedOut(seconds: Double)
    }

    let executable: String
    let arguments: [String]
    let memoryLimitBytes: UInt64?
    let logger: Logger
    private var process: Process?
    private var input: FileHandle?
    private var output: FileHandle?
    /// Bytes read from the child beyond the last answer.
    private var buffer = Data()

    /// `executable` (nil: this program, /proc/self/exe) is started with `arguments` (beginning with the
    /// worker subcommand); `memoryLimitBytes` caps its address space (RLIMIT_AS).
    public init(executable: String? = nil, arguments: [String], memoryLimitBytes: UInt64? = nil, logger: Logger) {
        self.executable = executable ?? (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
            ?? CommandLine.arguments[0]
        self.arguments = arguments
        self.memoryLimitBytes = memoryLimitBytes
        self.logger = logger
    }

    deinit { stop() }

    /// The process id of the running child, if any (tests, logs, aborting a job), read under a lock:
    /// the job's thread starts and reaps the child.
    public var pid: Int32? { pidLock.withLock { runningPID } }
    private let pidLock = NSLock()
    private var runningPID: Int32?

    /// Runs one file in the child (starting one first if needed). Blocking: call it off the
    /// cooperative pool.
    public func run(path: String, attempt: Int, deadlineSeconds: Double) -> Outcome {
        do {
            try startIfNeeded()
        } catch {
            return .died("could not be started: \(error.localizedDescription)")
        }
        guard let process, let input, let output else { return .died("could not be started") }
        struct Request: Encodable { let path: String; let attempt: Int }
        do {
            var line = try JSONEncoder().encode(Request(path: path, attempt: attempt))
            line.append(0x0A)
            try input.write(contentsOf: line)
        } catch {
            return reap("could not be sent the job (\(error.localizedDescription))")
        }
        // Kill the child if it does not answer in time; the read below then ends.
        let timedOut = TimeoutFlag()
        let pid = process.processIdentifier
        let timer = DispatchSource.makeTimerSource(queue: .global())
        timer.schedule(deadline: .now() + deadlineSeconds)
        timer.setEventHandler {
            timedOut.set()
            kill(pid, SIGKILL)
        }
        timer.resume()
        defer { timer.cancel() }
        guard let header = readLine(from: output), let count = Int(header), count >= 0, count < 1 << 30,
              let body = read(count, from: output) else {
            if timedOut.isSet {
                _ = reap("timed out")
                return .timedOut(seconds: deadlineSeconds)
            }
            return reap(nil)
        }
        do {
            return .sidecar(try JSONDecoder().decode(Sidecar.self, from: body))
        } catch {
            return reap("answered with something that is not a sidecar (\(error.localizedDescription))")
        }
    }

    /// Ends the child (closing its input ends it after its current job).
    public func stop() {
        pidLock.withLock { runningPID = nil }
        try? input?.close()
        if let process, process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process?.waitUntilExit()
        process = nil
        input = nil
        output = nil
        buffer.removeAll()
    }

    private func startIfNeeded() throws {
        if let process, process.isRunning { return }
        stop()
        let child = Process()
        child.executableURL = URL(fileURLWithPath: executable)
        // The worker limits its own address space (RLIMIT_AS) before it loads anything.
        child.arguments = arguments + (memoryLimitBytes.map { ["--address-space-mb", String($0 >> 20)] } ?? [])
        let toChild = Pipe(), fromChild = Pipe()
        child.standardInput = toChild
        child.standardOutput = fromChild
        child.standardError = FileHandle.standardError
        try child.run()
        process = child
        pidLock.withLock { runningPID = child.processIdentifier }
        input = toChild.fileHandleForWriting
        output = fromChild.fileHandleForReading
        logger.info("worker started", metadata: ["pid": "\(child.processIdentifier)"])
    }

    /// The child is gone or unusable: wait for it and say how it ended.
    private func reap(_ reason: String?) -> Outcome {
        guard let process else { return .died(reason ?? "is gone") }
        pidLock.withLock { runningPID = nil }  // before the wait: once reaped, the number may be reused
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        let how: String
        switch process.terminationReason {
        case .uncaughtSignal:
            let signal = process.terminationStatus
            how = "killed by signal \(signal) (\(Self.signalName(signal)))"
        default:
            how = "exited with status \(process.terminationStatus)"
        }
        self.process = nil
        input = nil
        output = nil
        buffer.removeAll()
        return .died(reason.map { "\($0); \(how)" } ?? how)
    }

    static func signalName(_ signal: Int32) -> String {
        switch signal {
        case SIGSEGV: "SIGSEGV"
        case SIGBUS: "SIGBUS"
        case SIGABRT: "SIGABRT"
        case SIGILL: "SIGILL"
        case SIGFPE: "SIGFPE"
        case SIGKILL: "SIGKILL"
        case SIGTERM: "SIGTERM"
        case SIGXCPU: "SIGXCPU"
        case SIGTRAP: "SIGTRAP"
        default: "signal \(signal)"
        }
    }

    private func readLine(from handle: FileHandle) -> String? {
        while true {
            if let newline = buffer.firstIndex(of: 0x0A) {
                let line = String(decoding: buffer[buffer.startIndex..<newline], as: UTF8.self)
                buffer.removeSubrange(buffer.startIndex...newline)
                return line
            }
            guard let more = Self.readSome(handle), !more.isEmpty else { return nil }
            buffer.append(more)
        }
    }

    /// What one read(2) returns (FileHandle.read(upToCount:) waits for the whole count or EOF):
    /// nil on error, empty at EOF.
    static func readSome(_ handle: FileHandle) -> Data? {
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while true {
            let n = chunk.withUnsafeMutableBytes { Foundation.read(handle.fileDescriptor, $0.baseAddress, $0.count) }
            if n >= 0 { return Data(chunk[0..<n]) }
            if errno != EINTR { return nil }
        }
    }

    private func read(_ count: Int, from handle: FileHandle) -> Data? {
        while buffer.count < count {
            guard let more = Self.readSome(handle), !more.isEmpty else { return nil }
            buffer.append(more)
        }
        let body = Data(buffer.prefix(count))
        buffer.removeSubrange(buffer.startIndex..<(buffer.startIndex + count))
        return body
    }
}

/// Set once from the timer's queue, read by the job's thread.
private final class TimeoutFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    func set() { lock.withLock { value = true } }
    var isSet: Bool { lock.withLock { value } }
}
