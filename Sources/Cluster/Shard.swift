import Foundation
import Pipeline

/// `flamingo run --shard I/N`: a deterministic 1/N of the files, by a hash of each file's key (its
/// share-relative path, `share:path`, where a --share root contains it; else its absolute path), so
/// that N independent runs (a Kubernetes Indexed Job, a Slurm job array) cover an archive exactly once
/// with no coordination. Shards are numbered 0..<N, as JOB_COMPLETION_INDEX and SLURM_ARRAY_TASK_ID
/// (with --array=0-(N-1)) are.
public struct Shard: Sendable, Equatable {
    public let index: Int
    public let count: Int

    public init(index: Int, count: Int) {
        self.index = index
        self.count = count
    }

    /// Parses `I/N` with 0 <= I < N.
    public init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let index = Int(parts[0]), let count = Int(parts[1]), count >= 1, index >= 0, index < count else {
            return nil
        }
        self.init(index: index, count: count)
    }

    /// The shard a key belongs to: the first 8 bytes of its SHA-256, big-endian, modulo N.
    public static func of(key: String, count: Int) -> Int {
        let digest = SHA256.hex(Data(key.utf8))
        let prefix = UInt64(digest.prefix(16), radix: 16) ?? 0
        return Int(prefix % UInt64(count))
    }

    /// The key of `path`: `share:relative` inside a share, else the standardized absolute path.
    public static func key(of path: String, shares: ShareMap) -> String {
        if let (share, relative) = shares.locate(path) { return "\(share):\(relative)" }
        return URL(fileURLWithPath: path).standardizedFileURL.path
    }

    public func contains(_ path: String, shares: ShareMap) -> Bool {
        Self.of(key: Self.key(of: path, shares: shares), count: count) == index
    }
}
