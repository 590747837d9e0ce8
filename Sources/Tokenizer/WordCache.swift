import Synchronization

/// A thread-safe word → ids cache for the BPE model (Rust `utils::cache::Cache`): once
/// `capacity` words are stored, new words are no longer added, as in Rust.
final class WordCache: Sendable {
    private let storage: Mutex<[UTF8Key: [Int]]>
    private let capacity: Int

    init(capacity: Int) {
        self.capacity = capacity
        storage = Mutex([:])
    }

    func ids(for key: UTF8Key) -> [Int]? {
        storage.withLock { $0[key] }
    }

    func store(_ ids: [Int], for key: UTF8Key) {
        storage.withLock { entries in
            if entries.count < capacity {
                entries[key] = ids
            }
        }
    }
}
