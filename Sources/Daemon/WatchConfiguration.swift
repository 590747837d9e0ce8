import Foundation

/// How `flamingo watch` behaves; every field has a command-line option.
public struct WatchConfiguration: Sendable {
    public var directories: [String]
    public var recursive = false
    /// Force polling every this many seconds; nil: inotify, with automatic
    /// polling on network and FUSE file systems (where inotify misses remote writes).
    public var pollSeconds: Double?
    /// A file is taken once its size and mtime have not changed for this long.
    public var stableSeconds: Double = 2
    /// Full rescan period, catching anything an event missed.
    public var rescanSeconds: Double = 60
    /// Files processed at once.
    public var jobs = 1
    /// Most files waiting in the queue; a full queue is caught up by the next rescan.
    public var queueCapacity = 10_000
    /// Attempts for transient failures (file still changing, deadline), with backoff.
    public var maxAttempts = 3
    public var retryBaseSeconds: Double = 5
    /// After SIGTERM, files in progress get this long to finish; then they are
    /// abandoned (no sidecar, no temporary file) and the process exits 0.
    public var stopSeconds: Double = 30
    /// Crash isolation: the arguments of this program's hidden worker subcommand (one long-lived child
    /// per job slot runs each file; WorkerProcess). nil: files run inside the daemon.
    public var workerArguments: [String]?
    /// The worker's address-space limit (RLIMIT_AS), if any.
    public var workerMemoryBytes: UInt64?
    /// A worker that has not answered for a file after this long is killed (the file is charged an attempt).
    public var jobSeconds: Double = 1800

    public init(directories: [String]) { self.directories = directories }
}
