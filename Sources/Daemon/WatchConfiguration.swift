import Foundation
import Pipeline

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

    /// Follow symbolic links, and only to regular files inside a watched directory (`--follow-symlinks`).
    public var followSymlinks = false

    public init(directories: [String]) { self.directories = directories }

    /// The file a symbolic link at `path` may be read through: with `followSymlinks`, its fully resolved
    /// target when that is a regular file inside one of the watched directories (resolved too); nil
    /// otherwise, and for anything that is not a link.
    public func followedTarget(of path: String) -> String? {
        var st = stat()
        guard followSymlinks, lstat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFLNK else { return nil }
        let target = URL(fileURLWithPath: path).resolvingSymlinksInPath().path
        var targetStat = stat()
        guard lstat(target, &targetStat) == 0, (targetStat.st_mode & S_IFMT) == S_IFREG else { return nil }
        let roots = directories.map { URL(fileURLWithPath: $0).resolvingSymlinksInPath().path }
        return roots.contains { target.hasPrefix($0.hasSuffix("/") ? $0 : $0 + "/") } ? target : nil
    }

    /// The fingerprint of what processing `path` reads: a followed link's target, else the file itself.
    public func fingerprint(of path: String) -> Sidecar.Fingerprint? {
        Sidecar.Fingerprint.of(path: followedTarget(of: path) ?? path)
    }
}
