import Foundation

/// One `flamingo watch` per directory: an exclusive flock on the directory
/// itself (no lock file is created), held until the process exits.
public final class DirectoryLock {
    private let fd: Int32

    public struct Busy: Error, LocalizedError {
        public let path: String
        public let reason: String
        public var errorDescription: String? { "\(path): \(reason)" }
    }

    public init(path: String) throws {
        fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw Busy(path: path, reason: "cannot be opened: \(String(cString: strerror(errno)))") }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let reason = errno == EWOULDBLOCK ? "another flamingo watch is already watching this directory"
                : "cannot be locked: \(String(cString: strerror(errno)))"
            close(fd)
            throw Busy(path: path, reason: reason)
        }
    }

    deinit { close(fd) }
}
