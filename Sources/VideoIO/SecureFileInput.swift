import CFFmpeg
import Foundation

/// A file we opened ourselves and hand to FFmpeg through a custom AVIOContext,
/// so FFmpeg never resolves a URL or picks a protocol (docs/VIDEO_READER.md §Hardening).
/// Opened with O_NOFOLLOW (unless allowed) and O_NONBLOCK (a FIFO cannot
/// block the open), then checked with fstat to be a regular, non-empty file
/// within the size limit.
final class SecureFileInput {
    let path: String
    let fd: Int32
    let size: Int64
    let identity: FileIdentity
    /// Owned: freed in deinit (FFmpeg does not free a custom AVIOContext).
    private(set) var context: UnsafeMutablePointer<AVIOContext>?

    /// Device, inode, size and modification time: what tells us a file changed.
    struct FileIdentity: Equatable {
        var device: UInt64
        var inode: UInt64
        var size: Int64
        var mtimeNanoseconds: Int64
    }

    static let bufferSize: Int32 = 1 << 16

    static func open(path: String, limits: VideoReaderLimits) throws(VideoIOError) -> SecureFileInput {
        var flags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK
        if !limits.followSymbolicLinks { flags |= O_NOFOLLOW }
        let fd = Glibc.open(path, flags)
        if fd < 0 {
            let err = errno
            switch err {
            case ENOENT, ENOTDIR: throw .fileNotFound(path: path)
            case ELOOP: throw .symbolicLinkRefused(path: path)
            default: throw .unreadable(path: path, reason: String(cString: strerror(err)))
            }
        }
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw .unreadable(path: path, reason: reason)
        }
        let type = st.st_mode & S_IFMT
        guard type == S_IFREG else {
            close(fd)
            let kind = switch type {
            case S_IFDIR: "directory"
            case S_IFIFO: "named pipe"
            case S_IFSOCK: "socket"
            case S_IFCHR, S_IFBLK: "device"
            default: "special file"
            }
            throw .notARegularFile(path: path, kind: kind)
        }
        // Back to blocking reads: O_NONBLOCK only protected the open itself.
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK)
        let size = Int64(st.st_size)
        guard size > 0 else {
            close(fd)
            throw .emptyFile(path: path)
        }
        guard size <= limits.maxFileBytes else {
            close(fd)
            throw .fileTooLarge(path: path, bytes: size, limit: limits.maxFileBytes)
        }
        let identity = FileIdentity(
            device: UInt64(st.st_dev), inode: UInt64(st.st_ino), size: size,
            mtimeNanoseconds: Int64(st.st_mtim.tv_sec) * 1_000_000_000 + Int64(st.st_mtim.tv_nsec))
        let input = SecureFileInput(path: path, fd: fd, size: size, identity: identity)
        guard input.context != nil else {
            throw .ffmpeg(path: path, operation: "allocating an I/O context", message: "out of memory")
        }
        return input
    }

    private init(path: String, fd: Int32, size: Int64, identity: FileIdentity) {
        self.path = path
        self.fd = fd
        self.size = size
        self.identity = identity
        guard let buffer = av_malloc(Int(Self.bufferSize))?.assumingMemoryBound(to: UInt8.self) else { return }
        let opaque = Unmanaged.passUnretained(self).toOpaque()
        context = avio_alloc_context(buffer, Self.bufferSize, 0, opaque, { opaque, buf, size in
            guard let opaque, let buf, size > 0 else { return FFmpegError.invalidData }
            let input = Unmanaged<SecureFileInput>.fromOpaque(opaque).takeUnretainedValue()
            while true {
                let n = read(input.fd, buf, Int(size))
                if n > 0 { return Int32(n) }
                if n == 0 { return FFmpegError.eof }
                if errno == EINTR { continue }
                return fl_averror(errno)
            }
        }, nil, { opaque, offset, whence in
            guard let opaque else { return -1 }
            let input = Unmanaged<SecureFileInput>.fromOpaque(opaque).takeUnretainedValue()
            if whence & AVSEEK_SIZE != 0 { return input.size }
            let position = lseek(input.fd, off_t(offset), whence & ~AVSEEK_FORCE)
            return position < 0 ? Int64(fl_averror(errno)) : Int64(position)
        })
        if context == nil { av_free(buffer) }
    }

    /// The identity of the file as it is on disk now (for change detection).
    func currentIdentity() -> FileIdentity? {
        var st = stat()
        guard fstat(fd, &st) == 0 else { return nil }
        return FileIdentity(
            device: UInt64(st.st_dev), inode: UInt64(st.st_ino), size: Int64(st.st_size),
            mtimeNanoseconds: Int64(st.st_mtim.tv_sec) * 1_000_000_000 + Int64(st.st_mtim.tv_nsec))
    }

    deinit {
        if let context {
            // FFmpeg may have replaced the buffer; free the one it holds now.
            av_freep(&context.pointee.buffer)
            avio_context_free(&self.context)
        }
        close(fd)
    }
}
