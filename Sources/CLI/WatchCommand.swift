import ArgumentParser
import Cluster
import Daemon
import Foundation
import Generation
import Logging
import Pipeline
import ServiceLifecycle

/// `flamingo watch`: the watch-folder daemon in the foreground (the systemd
/// unit runs exactly this).
struct WatchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "watch",
        abstract: "Watch directories and write VIDEO.flamingo.json next to each new or changed video.",
        discussion: """
            Files are taken once their size and mtime have been stable for --stable-seconds; \
            dotfiles, partial downloads (.part, .crdownload, .tmp) and sidecars are ignored. \
            Each file runs in a worker process (one per job slot, the model loaded once): a crash, \
            an out-of-memory kill or a hang ends the worker, not the daemon; attempts are recorded \
            in each directory's .flamingo-attempts.json before the work starts, so a file gets at \
            most --max-attempts tries across restarts, then an error sidecar (worker_crashed). \
            SIGTERM or SIGINT: stop taking files, finish the ones in progress, exit 0.
            """)

    @Argument(help: "Directories to watch.")
    var directories: [String]

    @OptionGroup var options: PipelineOptions
    @OptionGroup var reader: ReaderOptions

    @Option(help: "Files processed at once.")
    var jobs: Int = 1

    @Option(help: "Poll every SECONDS instead of using inotify (automatic on network and FUSE file systems).")
    var poll: Double?

    @Flag(help: "Watch subdirectories too.")
    var recursive = false

    @Option(help: "Seconds a file's size and mtime must be unchanged before it is taken.")
    var stableSeconds: Double = 2

    @Option(help: "Seconds between full rescans.")
    var rescanSeconds: Double = 60

    @Option(help: "Attempts for transient failures.")
    var maxAttempts: Int = 3

    @Option(help: "Seconds the files in progress get to finish after SIGTERM before they are abandoned.")
    var stopSeconds: Double = 30

    @Option(help: "Seconds a worker may spend on one file before it is killed and the file charged an attempt.")
    var jobSeconds: Double = 1800

    @Option(help: "Address-space limit of each worker process in MiB (0: none; the unit's MemoryMax still applies).")
    var workerMemoryMb: Int = 0

    @Flag(help: "Process files inside the daemon instead of in worker processes (no crash isolation; for debugging).")
    var inProcess = false

    @Flag(help: "Follow symbolic links, only to regular files inside a watched directory (the sidecar goes next to the link).")
    var followSymlinks = false

    @Option(help: ArgumentHelp(
        "Share the inboxes with workers on other hosts through this PostgreSQL database (default: $FLAMINGO_DATABASE_URL).",
        valueName: "postgres://USER@HOST/DB"))
    var database: String?

    @Option(help: ArgumentHelp(
        "A share root, named so that hosts mounting it elsewhere agree on paths (cluster mode; repeatable; default: each watched directory is a share named after it).",
        valueName: "NAME=ROOT"))
    var share: [String] = []

    @Option(help: "Cluster mode: seconds a claimed job's lease lasts without a heartbeat (heartbeats every third).")
    var leaseSeconds: Double = 30

    func validate() throws {
        guard leaseSeconds >= 1 else { throw ValidationError("--lease-seconds must be at least 1") }
        guard jobs >= 1 else { throw ValidationError("--jobs must be at least 1") }
        guard poll.map({ $0 > 0 }) ?? true else { throw ValidationError("--poll must be positive") }
        guard stableSeconds >= 0, rescanSeconds > 0, maxAttempts >= 1, stopSeconds >= 0, jobSeconds > 0, workerMemoryMb >= 0 else {
            throw ValidationError("--stable-seconds >= 0, --rescan-seconds > 0, --max-attempts >= 1, --job-seconds > 0 and --worker-memory-mb >= 0 are required")
        }
    }

    func run() async throws {
        let logger = Logger(label: "flamingo.watch")
        for directory in directories {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
                throw CLIError("\(directory): is not a directory")
            }
        }
        let runner = try options.makeRunner(limits: try reader.limits())
        var config = WatchConfiguration(directories: directories.map { URL(fileURLWithPath: $0).standardizedFileURL.path })
        config.recursive = recursive
        config.pollSeconds = poll
        config.jobs = jobs
        config.stableSeconds = stableSeconds
        config.rescanSeconds = rescanSeconds
        config.maxAttempts = maxAttempts
        config.stopSeconds = stopSeconds
        config.jobSeconds = jobSeconds
        config.followSymlinks = followSymlinks
        config.workerMemoryBytes = workerMemoryMb > 0 ? UInt64(workerMemoryMb) << 20 : nil
        // Each job slot's worker: this program's hidden `worker` subcommand with the same pipeline, model
        // and reader options (the environment, with its FLAMINGO_* lists, is inherited).
        var workerArguments: [String] = ["worker", "--pipeline", options.pipeline]
        if let model = options.model { workerArguments += ["--model", model] }
        for (flag, values) in [("--allow-format", reader.allowFormats), ("--deny-format", reader.denyFormats),
                               ("--allow-codec", reader.allowCodecs), ("--deny-codec", reader.denyCodecs)] {
            for value in values { workerArguments += [flag, value] }
        }
        config.workerArguments = inProcess ? nil : workerArguments
        if let url = database ?? ProcessInfo.processInfo.environment["FLAMINGO_DATABASE_URL"], !url.isEmpty {
            guard !followSymlinks else { throw CLIError("--follow-symlinks is not available with --database (a link's target may differ between hosts)") }
            try await runCluster(config, runner: runner, url: url, logger: logger)
            return
        }
        guard share.isEmpty else { throw CLIError("--share is for cluster mode: give --database or FLAMINGO_DATABASE_URL too") }
        let service: WatchService
        do { service = try WatchService(configuration: config, runner: runner, logger: logger) } catch {
            throw CLIError(error.localizedDescription)
        }
        let group = ServiceGroup(services: [service], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        try await group.run()
    }

    /// Cluster mode (docs/CLUSTER.md): this process is one worker of many sharing the inboxes.
    private func runCluster(_ watch: WatchConfiguration, runner: PipelineRunner, url: String, logger: Logger) async throws {
        let service: ClusterWatchService
        do {
            var shares = try ShareMap(share)
            if share.isEmpty {
                for directory in watch.directories {
                    try shares.add(name: (directory as NSString).lastPathComponent, root: directory)
                }
            }
            var configuration = ClusterConfiguration(watch: watch, database: try DatabaseURL(url), shares: shares)
            configuration.leaseSeconds = leaseSeconds
            service = try ClusterWatchService(configuration: configuration, runner: runner, logger: logger)
        } catch {
            throw CLIError(error.localizedDescription)
        }
        let group = ServiceGroup(services: [service], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        try await group.run()
    }
}
