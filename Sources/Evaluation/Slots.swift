import Foundation

/// Results written from concurrent iterations, each to its own index.
final class Slots<T: Sendable>: @unchecked Sendable {
    private var storage: [T?]
    private let lock = NSLock()
    init(_ count: Int) { storage = Array(repeating: nil, count: count) }
    func set(_ i: Int, _ value: T) { lock.withLock { storage[i] = value } }
    var values: [T] { lock.withLock { storage.compactMap { $0 } } }
}
