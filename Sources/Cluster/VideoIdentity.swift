import Foundation
import Pipeline

/// What makes a video one job across hosts: its share and share-relative path, its size and mtime,
/// and a SHA-256 of sampled blocks of its content (the first, middle and last 64 KiB). Inode numbers
/// are left out: they are not stable across NFS clients. A file whose bytes change is a new job.
public struct VideoIdentity: Sendable, Equatable, Hashable {
    public var share: String
    public var path: String
    public var size: Int64
    public var mtimeNs: Int64
    public var contentHash: String

    public static let blockBytes = 65_536

    public init(share: String, path: String, size: Int64, mtimeNs: Int64, contentHash: String) {
        self.share = share
        self.path = path
        self.size = size
        self.mtimeNs = mtimeNs
        self.contentHash = contentHash
    }

    /// The identity of the regular file at `file` (not following a link), known as
    /// (share, relative); nil if it cannot be read.
    public static func of(file: String, share: String, relative: String) -> VideoIdentity? {
        guard let before = Sidecar.Fingerprint.of(path: file) else { return nil }
        let fd = open(file, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var sampled = Data()
        withUnsafeBytes(of: before.size.littleEndian) { sampled.append(contentsOf: $0) }
        let size = Int(before.size)
        var offsets = [0]
        if size > blockBytes { offsets += [max(blockBytes, size / 2 - blockBytes / 2), max(0, size - blockBytes)] }
        var block = [UInt8](repeating: 0, count: blockBytes)
        for offset in Set(offsets).sorted() {
            let n = block.withUnsafeMutableBytes { pread(fd, $0.baseAddress, blockBytes, off_t(offset)) }
            guard n >= 0 else { return nil }
            sampled.append(contentsOf: block[0..<n])
        }
        // Bytes that changed while we read are not this identity.
        guard let after = Sidecar.Fingerprint.of(path: file), after == before else { return nil }
        return VideoIdentity(share: share, path: relative, size: before.size, mtimeNs: before.mtimeNs,
                             contentHash: SHA256.hex(sampled))
    }

    /// Whether `fingerprint` (a file as it is now) still has this identity's size and mtime.
    public func matches(_ fingerprint: Sidecar.Fingerprint) -> Bool {
        fingerprint.size == size && fingerprint.mtimeNs == mtimeNs
    }

    /// `share:path`, as logs, `status` and `search` show it.
    public var label: String { "\(share):\(path)" }
}
