/// Finds added tokens in UTF-8 text: leftmost match first, the longest one among those that
/// start at the same place, never overlapping (aho-corasick `MatchKind::LeftmostLongest`, as
/// built by Rust's `AddedVocabulary::refresh_added_tokens`).
///
/// The patterns live in a byte trie whose root has a dense 256-entry table. A valid UTF-8
/// pattern can only match at a character boundary of valid UTF-8 text, so byte matching is
/// exact.
struct AddedTokenMatcher: Sendable {
    struct Match {
        var range: Range<Int>
        var id: Int
    }

    private struct Node: Sendable {
        var children: [UInt8: Int32] = [:]
        /// Id of the token that ends here, or -1.
        var tokenId: Int = -1
    }

    private var nodes: [Node] = [Node()]
    private var rootChildren = [Int32](repeating: -1, count: 256)

    var isEmpty: Bool { nodes.count == 1 }

    init(patterns: [(content: String, id: Int)]) {
        for (content, id) in patterns where !content.isEmpty {
            insert(Array(content.utf8), id: id)
        }
    }

    private mutating func insert(_ bytes: [UInt8], id: Int) {
        var node = 0
        for (depth, byte) in bytes.enumerated() {
            let existing = depth == 0 ? rootChildren[Int(byte)] : (nodes[node].children[byte] ?? -1)
            if existing >= 0 {
                node = Int(existing)
                continue
            }
            nodes.append(Node())
            let child = Int32(nodes.count - 1)
            if depth == 0 {
                rootChildren[Int(byte)] = child
            } else {
                nodes[node].children[byte] = child
            }
            node = Int(child)
        }
        // The first pattern with this content keeps its place (duplicates share one id anyway).
        if nodes[node].tokenId < 0 {
            nodes[node].tokenId = id
        }
    }

    func matches(in bytes: UnsafeBufferPointer<UInt8>) -> [Match] {
        guard !isEmpty else { return [] }
        var result: [Match] = []
        var start = 0
        let count = bytes.count
        while start < count {
            var child = rootChildren[Int(bytes[start])]
            guard child >= 0 else {
                start += 1
                continue
            }
            var best: Match?
            var position = start
            while true {
                let node = nodes[Int(child)]
                position += 1
                if node.tokenId >= 0 {
                    best = Match(range: start..<position, id: node.tokenId)
                }
                guard position < count, let next = node.children[bytes[position]] else { break }
                child = next
            }
            if let best {
                result.append(best)
                start = best.range.upperBound
            } else {
                start += 1
            }
        }
        return result
    }
}
