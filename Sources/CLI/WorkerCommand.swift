import ArgumentParser
import Foundation
import Logging
import Pipeline

/// `flamingo worker` (hidden): the child process `flamingo watch` runs each file in (Daemon's
/// WorkerProcess describes the protocol). Loads the pipeline and model once, then answers one
/// `{"path", "attempt"}` line at a time with the sidecar's byte count and JSON on stdout; logs go to
/// stderr. Ends when its input closes or its parent is gone.
///
/// Fault injection for the daemon's tests (docs/DAEMON.md): FLAMINGO_WORKER_FAULT=KIND:TEXT makes the
/// worker, on a file whose path contains TEXT, raise SIGSEGV (`segv`), stop answering (`hang`),
/// exit with status 3 (`exit`) — the ways a real decoder crash, a livelock or an out-of-memory exit look
/// from the daemon — or take longer (`slow`: a long video, for the cluster's lease tests; 8 s or
/// FLAMINGO_WORKER_FAULT_SECONDS).
struct WorkerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker", abstract: "The daemon's worker process (internal).", shouldDisplay: false)

    @OptionGroup var options: PipelineOptions
    @OptionGroup var reader: ReaderOptions

    @Option(help: "Address-space limit (RLIMIT_AS) in MiB, set before anything is loaded.")
    var addressSpaceMb: Int?

    func run() throws {
        LoggingSystem.bootstrap(StreamLogHandler.standardError)  // stdout carries the answers
        if let mb = addressSpaceMb, mb > 0 {
            var limit = rlimit(rlim_cur: rlim_t(mb) << 20, rlim_max: rlim_t(mb) << 20)
            guard setrlimit(__rlimit_resource_t(RLIMIT_AS.rawValue), &limit) == 0 else {
                throw CLIError("worker: cannot limit the address space to \(mb) MiB: \(String(cString: strerror(errno)))")
            }
        }
        let runner = try options.makeRunner(limits: try reader.limits())
        let parent = getppid()
        // A daemon killed with -9 cannot close our input while we work: notice it within a second.
        Thread.detachNewThread {
            while true {
                Thread.sleep(forTimeInterval: 1)
                if getppid() != parent { Foundation.exit(0) }
            }
        }
        struct Request: Decodable { let path: String; let attempt: Int }
        if let fault = ProcessInfo.processInfo.environment["FLAMINGO_WORKER_FAULT"] {
            FileHandle.standardError.write(Data("worker: fault injection on: \(fault)\n".utf8))
        }
        let output = FileHandle.standardOutput
        while let line = Swift.readLine(strippingNewline: true) {
            guard let request = try? JSONDecoder().decode(Request.self, from: Data(line.utf8)) else {
                throw CLIError("worker: not a job: \(line.prefix(200))")
            }
            Self.injectFault(path: request.path)
            let sidecar = runner.sidecar(for: request.path, attempts: request.attempt)
            let body = try JSONEncoder().encode(sidecar)
            try output.write(contentsOf: Data("\(body.count)\n".utf8) + body)
        }
    }

    static func injectFault(path: String) {
        guard let fault = ProcessInfo.processInfo.environment["FLAMINGO_WORKER_FAULT"],
              let colon = fault.firstIndex(of: ":"), path.contains(fault[fault.index(after: colon)...]) else { return }
        switch fault[..<colon] {
        case "segv":  // a real invalid write, as a decoder's would be (raise() would return after Swift's backtrace)
            UnsafeMutablePointer<Int>(bitPattern: 16)?.pointee = 1
        case "hang": while true { sleep(60) }
        case "exit": Foundation.exit(3)
        case "slow":
            let seconds = ProcessInfo.processInfo.environment["FLAMINGO_WORKER_FAULT_SECONDS"].flatMap(Double.init) ?? 8
            usleep(useconds_t(max(0, min(seconds, 600)) * 1e6))
        default: break
        }
    }
}
