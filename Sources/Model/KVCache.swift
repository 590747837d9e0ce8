/// Self-attention keys and values of every position seen so far, per LM
/// layer, preallocated to `capacity` positions: (capacity, d) each.
/// A value type: copying it (beam search) copies the cache.
public struct KVCache: Sendable {
    public let capacity: Int
    public let width: Int
    public private(set) var length = 0
    var keys: [[Float]]
    var values: [[Float]]

    public init(layers: Int, capacity: Int, width: Int) {
        self.capacity = capacity
        self.width = width
        keys = Array(repeating: [Float](repeating: 0, count: capacity * width), count: layers)
        values = keys
    }

    mutating func advance(by n: Int) { length += n }
}
