/// A word being merged: a doubly linked list of symbols over an array (Rust `bpe::Word`).
struct BPEWord {
    struct Symbol {
        var id: Int
        var previous: Int
        var next: Int
        /// Byte length; 0 marks a symbol merged into its left neighbour.
        var length: Int
    }

    private(set) var symbols: [Symbol] = []

    init(capacity: Int) {
        symbols.reserveCapacity(capacity)
    }

    mutating func add(id: Int, byteLength: Int) {
        let count = symbols.count
        if count > 0 {
            symbols[count - 1].next = count
        }
        symbols.append(Symbol(id: id, previous: count - 1, next: -1, length: byteLength))
    }

    /// Applies merges lowest rank first (leftmost among equal ranks) until none applies,
    /// exactly as Rust's `Word::merge_all` without dropout: stale queue entries are skipped
    /// lazily, and an entry counts as current when the pair now at its position maps to the
    /// same merged id (not necessarily the same pair, which Rust also accepts).
    mutating func mergeAll(_ merges: MergeTable) {
        guard symbols.count > 1 else { return }
        var queue = MergeQueue(capacity: symbols.count)
        for index in 0..<(symbols.count - 1) {
            if let merge = merges.lookup(symbols[index].id, symbols[index + 1].id) {
                queue.push(MergeCandidate(position: index, rank: merge.rank, newId: merge.newId))
            }
        }

        while let top = queue.pop() {
            let position = top.position
            if symbols[position].length == 0 { continue }
            let nextPosition = symbols[position].next
            if nextPosition == -1 { continue }
            let right = symbols[nextPosition]

            guard let current = merges.lookup(symbols[position].id, right.id), current.newId == top.newId else {
                continue
            }

            symbols[position].id = top.newId
            symbols[position].length += right.length
            symbols[position].next = right.next
            symbols[nextPosition].length = 0

            if right.next > -1 && right.next < symbols.count {
                symbols[right.next].previous = position
            }

            let merged = symbols[position]
            if merged.previous >= 0 {
                let previous = symbols[merged.previous]
                if let merge = merges.lookup(previous.id, merged.id) {
                    queue.push(MergeCandidate(position: merged.previous, rank: merge.rank, newId: merge.newId))
                }
            }
            if merged.next >= 0 && merged.next < symbols.count {
                let next = symbols[merged.next]
                if let merge = merges.lookup(merged.id, next.id) {
                    queue.push(MergeCandidate(position: position, rank: merge.rank, newId: merge.newId))
                }
            }
        }
    }

    /// The ids of the remaining symbols, in order.
    func appendIds(to ids: inout [Int]) {
        for symbol in symbols where symbol.length != 0 {
            ids.append(symbol.id)
        }
    }
}
