/// The BPE merges as a map from a pair of token ids to the merge's rank and the id of the
/// merged token (Rust `MergeMap`). Both values are packed in one `UInt64` key and value.
struct MergeTable: Sendable {
    private var entries: [UInt64: UInt64] = [:]

    init() {}

    var count: Int { entries.count }

    @inline(__always)
    private static func key(_ left: Int, _ right: Int) -> UInt64 {
        UInt64(UInt32(truncatingIfNeeded: left)) << 32 | UInt64(UInt32(truncatingIfNeeded: right))
    }

    /// A later rule for the same pair replaces an earlier one, as collecting into Rust's
    /// `HashMap` does.
    mutating func insert(left: Int, right: Int, rank: Int, newId: Int) {
        entries[Self.key(left, right)] = UInt64(UInt32(truncatingIfNeeded: rank)) << 32 | UInt64(UInt32(truncatingIfNeeded: newId))
    }

    @inline(__always)
    func lookup(_ left: Int, _ right: Int) -> (rank: Int, newId: Int)? {
        guard let value = entries[Self.key(left, right)] else { return nil }
        return (Int(value >> 32), Int(value & 0xFFFF_FFFF))
    }
}
