import Foundation

/// Writes sidecars atomically: a temporary file in the same directory, fsync,
/// a check that the video did not change meanwhile, rename over the target,
/// fsync of the directory. Never overwrites a file that is not one of ours,
/// never touches the video.
public enum SidecarWriter {
    public enum WriteError: Error, LocalizedError, Equatable {
        case notOurs(path: String)
        case videoChanged(path: String)
        case io(path: String, reason: String)
        /// The file system refused for now: full (ENOSPC, EDQUOT), read-only (EROFS) or not writable
        /// (EACCES, EPERM). Nothing partial is left; the same write may succeed later.
        case unavailable(path: String, reason: String)

        public var errorDescription: String? {
            switch self {
            case let .notOurs(path): "\(path): exists and was not written by flamingo; it is left alone"
            case let .videoChanged(path): "\(path): changed while it was processed; its sidecar was not written"
            case let .io(path, reason): "\(path): \(reason)"
            case let .unavailable(path, reason): "\(path): cannot be written now (\(reason)); will retry"
            }
        }

        /// The error for a failed call with `errno` set: transient file-system states are `.unavailable`.
        static func failure(_ path: String, _ what: String) -> WriteError {
            let code = errno
            let reason = what.isEmpty ? String(cString: strerror(code)) : "\(what): \(String(cString: strerror(code)))"
            return [ENOSPC, EDQUOT, EROFS, EACCES, EPERM].contains(code) ? .unavailable(path: path, reason: reason) : .io(path: path, reason: reason)
        }
    }

    /// Prefix of our temporary files (the watcher ignores them; a restart removes stale ones).
    public static let temporaryPrefix = ".flamingo-tmp-"

    /// Whether `path` may be replaced: absent, or a sidecar we wrote.
    public static func mayReplace(_ path: String) -> Bool {
        guard FileManager.default.fileExists(atPath: path) else { return true }
        return existing(path) != nil
    }

    /// The sidecar at `path` if it is a well-formed one of ours.
    public static func existing(_ path: String) -> Sidecar? {
        guard let data = FileManager.default.contents(atPath: path),
              let sidecar = try? JSONDecoder().decode(Sidecar.self, from: data),
              sidecar.generator == Sidecar.generatorName else { return nil }
        return sidecar
    }

    /// Publishes a video's results next to it, as `flamingo run` and `flamingo watch` both do:
    /// VIDEO.flamingo.json (only if the video still has the bytes that were read), then
    /// VIDEO.flamingo.vtt when there are segments.
    public static func publish(_ sidecar: Sidecar, for video: String) throws {
        try write(try sidecar.encoded(), to: Sidecar.path(for: video), video: video, fingerprint: sidecar.video.fingerprint)
        if let segments = sidecar.segments, !segments.isEmpty {
            try write(Data(WebVTT.render(segments).utf8), to: Sidecar.subtitlePath(for: video), requireOurs: false)
        }
    }

    /// Writes `contents` to `target` atomically; `video` and `fingerprint` guard
    /// against writing results for bytes that are no longer there.
    public static func write(_ contents: Data, to target: String, video: String? = nil,
                             fingerprint: Sidecar.Fingerprint? = nil, requireOurs: Bool = true) throws(WriteError) {
        if requireOurs && !mayReplace(target) { throw .notOurs(path: target) }
        let directory = (target as NSString).deletingLastPathComponent
        let dir = directory.isEmpty ? "." : directory
        let temporary = (dir as NSString).appendingPathComponent(
            "\(temporaryPrefix)\(getpid())-\(UInt32.random(in: 0...UInt32.max))-\((target as NSString).lastPathComponent)")
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0o644)
        guard fd >= 0 else { throw .failure(temporary, "") }
        var ok = false
        defer {
            if !ok { unlink(temporary) }
        }
        var writeErrno: Int32 = 0
        let written = contents.withUnsafeBytes { raw -> Int in
            guard let base = raw.baseAddress else { return 0 }
            var offset = 0
            while offset < raw.count {
                let n = Glibc.write(fd, base + offset, raw.count - offset)
                if n < 0 { if errno == EINTR { continue }; writeErrno = errno; return -1 }
                offset += n
            }
            return offset
        }
        let synced = fsync(fd) == 0
        if !synced && writeErrno == 0 { writeErrno = errno }
        close(fd)
        guard written == contents.count, synced else {
            errno = writeErrno
            throw .failure(temporary, "write failed")
        }
        // The fingerprint is of what was read: a link's target (a path named on the command line may be a link).
        if let video, let fingerprint,
           Sidecar.Fingerprint.of(path: URL(fileURLWithPath: video).resolvingSymlinksInPath().path) != fingerprint {
            throw .videoChanged(path: video)
        }
        if requireOurs && !mayReplace(target) { throw .notOurs(path: target) }
        guard rename(temporary, target) == 0 else { throw .failure(target, "rename failed") }
        ok = true
        let dirFD = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dirFD >= 0 {
            fsync(dirFD)
            close(dirFD)
        }
    }
}
