import Foundation
import Logging

/// What the watcher reports: a file that was written or moved in, or "look
/// at everything again" (queue overflow, a directory that came back, a poll tick).
public enum WatchEvent: Sendable, Equatable {
    case candidate(String)
    case rescan
}

/// inotify on the watched directories (CLOSE_WRITE, and MOVED_TO because a
/// same-filesystem `mv` gives only that), on a dedicated thread. Falls back to
/// periodic rescans (polling) when asked, and automatically on network and
/// FUSE file systems, whose remote writes inotify never sees. A watched
/// directory that is removed is watched again when it reappears.
public final class DirectoryWatcher: @unchecked Sendable {
    let configuration: WatchConfiguration
    let logger: Logger
    private let lock = NSLock()
    private var stopped = false
    private var thread: Thread?
    /// Files passed over and already logged.
    private var passedOver: Set<String> = []

    /// File system types (from /proc/self/mountinfo) where inotify misses changes made elsewhere.
    static func isRemote(fileSystem type: String) -> Bool {
        ["nfs", "nfs4", "cifs", "smb3", "smbfs", "9p", "fuse", "sshfs", "ceph", "glusterfs", "afs"].contains(type)
            || type.hasPrefix("fuse.")
    }

    /// The file system type of the mount holding `path` (longest mount point prefix).
    static func fileSystemType(of path: String) -> String? {
        guard let info = try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8) else { return nil }
        let resolved = URL(fileURLWithPath: path).resolvingSymlinksInPath().path
        var best: (length: Int, type: String)?
        for line in info.split(separator: "\n") {
            // id parent major:minor root mountpoint options [optional...] - fstype source superoptions
            let fields = line.split(separator: " ").map(String.init)
            guard fields.count > 5, let dash = fields.firstIndex(of: "-"), dash + 1 < fields.count else { continue }
            let mountPoint = fields[4].replacingOccurrences(of: "\\040", with: " ")
            let matches = resolved == mountPoint || resolved.hasPrefix(mountPoint == "/" ? "/" : mountPoint + "/")
            if matches, mountPoint.count > (best?.length ?? -1) { best = (mountPoint.count, fields[dash + 1]) }
        }
        return best?.type
    }

    public init(configuration: WatchConfiguration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
    }

    /// Whether `path` needs polling (forced, or a network/FUSE file system).
    public func needsPolling(_ path: String) -> Bool {
        if configuration.pollSeconds != nil { return true }
        return Self.fileSystemType(of: path).map(Self.isRemote) ?? false
    }

    public func start(_ continuation: AsyncStream<WatchEvent>.Continuation) {
        let thread = Thread { [self] in run(continuation) }
        thread.name = "flamingo-watch"
        lock.withLock { self.thread = thread }
        thread.start()
    }

    public func stop() { lock.withLock { stopped = true } }

    private var isStopped: Bool { lock.withLock { stopped } }

    private func run(_ continuation: AsyncStream<WatchEvent>.Continuation) {
        defer { continuation.finish() }
        let polled = configuration.directories.filter(needsPolling)
        let interval = configuration.pollSeconds ?? 5
        var lastPoll = Date()
        let fd = inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC))
        guard fd >= 0 else {
            logger.error("inotify is unavailable (\(String(cString: strerror(errno)))); polling every \(interval) s")
            while !isStopped {
                Thread.sleep(forTimeInterval: min(0.5, interval))
                if Date().timeIntervalSince(lastPoll) >= interval { lastPoll = Date(); continuation.yield(.rescan) }
            }
            return
        }
        defer { close(fd) }
        let mask = UInt32(IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE | IN_DELETE_SELF | IN_MOVE_SELF)
        var watches: [Int32: String] = [:]
        var lostRoots: Set<String> = []

        func add(_ directory: String) {
            let wd = inotify_add_watch(fd, directory, mask)
            if wd >= 0 { watches[wd] = directory } else { lostRoots.insert(directory) }
            guard configuration.recursive, let entries = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return }
            for entry in entries where !entry.hasPrefix(".") {
                let child = (directory as NSString).appendingPathComponent(entry)
                var isDirectory: ObjCBool = false
                if FileManager.default.fileExists(atPath: child, isDirectory: &isDirectory), isDirectory.boolValue { add(child) }
            }
        }
        for root in configuration.directories where !polled.contains(root) { add(root) }
        if !polled.isEmpty { logger.info("polling every \(interval) s", metadata: ["directories": "\(polled)"]) }

        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while !isStopped {
            var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            _ = poll(&pfd, 1, 500)
            if !polled.isEmpty, Date().timeIntervalSince(lastPoll) >= interval {
                lastPoll = Date()
                continuation.yield(.rescan)
            }
            // A removed root that exists again: watch it and look at everything in it.
            for root in lostRoots where FileManager.default.fileExists(atPath: root) {
                lostRoots.remove(root)
                add(root)
                if !lostRoots.contains(root) {
                    logger.info("watching again", metadata: ["directory": "\(root)"])
                    continuation.yield(.rescan)
                }
            }
            let n = read(fd, &buffer, buffer.count)
            guard n > 0 else { continue }
            var offset = 0
            var rescan = false
            while offset + MemoryLayout<inotify_event>.size <= n {
                let (wd, eventMask, length) = buffer.withUnsafeBytes { raw in
                    (raw.loadUnaligned(fromByteOffset: offset, as: Int32.self),
                     raw.loadUnaligned(fromByteOffset: offset + 4, as: UInt32.self),
                     Int(raw.loadUnaligned(fromByteOffset: offset + 12, as: UInt32.self)))
                }
                let nameStart = offset + MemoryLayout<inotify_event>.size
                let nameBytes = buffer[nameStart..<min(n, nameStart + length)].prefix { $0 != 0 }
                let name = String(decoding: nameBytes, as: UTF8.self)
                offset = nameStart + length
                if eventMask & UInt32(IN_Q_OVERFLOW) != 0 { rescan = true; continue }
                guard let directory = watches[wd] else { continue }
                if eventMask & UInt32(IN_IGNORED | IN_DELETE_SELF | IN_MOVE_SELF) != 0 {
                    watches[wd] = nil
                    if configuration.directories.contains(directory) {
                        lostRoots.insert(directory)
                        logger.warning("watched directory disappeared; waiting for it to come back", metadata: ["directory": "\(directory)"])
                    }
                    continue
                }
                let path = (directory as NSString).appendingPathComponent(name)
                if eventMask & UInt32(IN_ISDIR) != 0 {
                    if configuration.recursive && eventMask & UInt32(IN_CREATE | IN_MOVED_TO) != 0 && !name.hasPrefix(".") {
                        add(path)
                        rescan = true  // files may have landed before the watch
                    }
                    continue
                }
                if eventMask & UInt32(IN_CLOSE_WRITE | IN_MOVED_TO) != 0 && take(path, name: name) {
                    continuation.yield(.candidate(path))
                } else if eventMask & UInt32(IN_CREATE) != 0, configuration.followedTarget(of: path) != nil, take(path, name: name) {
                    continuation.yield(.candidate(path))  // `ln -s` gives IN_CREATE only
                }
            }
            if rescan { continuation.yield(.rescan) }
        }
    }

    /// Whether the file is one to process; a file passed over is logged once (debug).
    private func take(_ path: String, name: String) -> Bool {
        guard case .passOver(let reason) = FileFilter.decide(name) else { return true }
        if firstMention(path) { logger.debug("passed over", metadata: ["file": "\(path)", "reason": "\(reason)"]) }
        return false
    }

    /// True the first time `path` is passed over (a bounded memory of them), so each is logged once.
    private func firstMention(_ path: String) -> Bool {
        lock.withLock { passedOver.count < 100_000 && passedOver.insert(path).inserted }
    }

    /// Every acceptable file under the watched directories (recursively when configured).
    public func scan() -> [String] {
        var out: [String] = []
        func visit(_ directory: String) {
            guard let entries = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return }
            for entry in entries.sorted() {
                let path = (directory as NSString).appendingPathComponent(entry)
                var st = stat()
                guard lstat(path, &st) == 0 else { continue }
                if (st.st_mode & S_IFMT) == S_IFDIR {
                    if configuration.recursive && !entry.hasPrefix(".") { visit(path) }
                } else if (st.st_mode & S_IFMT) == S_IFREG && take(path, name: entry) {
                    out.append(path)
                } else if (st.st_mode & S_IFMT) == S_IFLNK && FileFilter.accepts(entry) {
                    if configuration.followedTarget(of: path) != nil {
                        if take(path, name: entry) { out.append(path) }
                    } else if firstMention(path) {
                        // Said once per file, not silently skipped.
                        logger.notice(configuration.followSymlinks
                                      ? "symbolic link not followed: its target is not a file inside a watched directory"
                                      : "symbolic link not followed (--follow-symlinks follows links to files inside the watched directories)",
                                      metadata: ["file": "\(path)"])
                    }
                }
            }
        }
        for root in configuration.directories { visit(root) }
        return out
    }
}
