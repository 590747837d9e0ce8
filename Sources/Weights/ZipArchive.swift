import Foundation

/// The stored (uncompressed) entries of a ZIP archive, memory-mapped: what
/// `torch.save` writes (PyTorch >= 1.6 always stores, 64-byte aligned). Reads
/// the central directory (ZIP64 included) and checks every offset against the
/// file; compressed or encrypted entries are refused, not inflated.
public final class ZipArchive: @unchecked Sendable {
    public struct Entry: Sendable {
        public var name: String
        /// Byte range of the entry's data in the file.
        public var range: Range<Int>
    }

    public let path: String
    public let entries: [String: Entry]
    let mapping: Data

    public init(path: String) throws(WeightError) {
        self.path = path
        do { mapping = try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped) } catch {
            throw .unreadable(path: path, reason: error.localizedDescription)
        }
        entries = try Self.readDirectory(mapping, path: path)
    }

    /// Whether the file starts like a ZIP archive (a local file header).
    public static func looksLikeZip(path: String) -> Bool {
        guard let handle = FileHandle(forReadingAtPath: path) else { return false }
        defer { try? handle.close() }
        return (try? handle.read(upToCount: 4)) == Data([0x50, 0x4B, 0x03, 0x04])
    }

    /// The bytes of an entry (a slice of the mapping; no copy).
    public func data(_ name: String) throws(WeightError) -> Data {
        guard let e = entries[name] else { throw .malformedCheckpoint(path: path, reason: "no entry '\(name)' in the archive") }
        return mapping[e.range]
    }

    private static func readDirectory(_ d: Data, path: String) throws(WeightError) -> [String: Entry] {
        func bad(_ reason: String) -> WeightError { .malformedCheckpoint(path: path, reason: reason) }
        func u16(_ o: Int) -> Int { Int(d.withUnsafeBytes { UInt16(littleEndian: $0.loadUnaligned(fromByteOffset: o, as: UInt16.self)) }) }
        func u32(_ o: Int) -> Int { Int(d.withUnsafeBytes { UInt32(littleEndian: $0.loadUnaligned(fromByteOffset: o, as: UInt32.self)) }) }
        func u64(_ o: Int) -> Int { Int(truncatingIfNeeded: d.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(fromByteOffset: o, as: UInt64.self)) }) }
        let n = d.count
        guard n >= 22 else { throw bad("shorter than a ZIP end record") }
        // End of central directory: the last PK\5\6 within the final 64 KiB + 22 bytes.
        // Offsets and sizes read from the file are compared as `x <= n - y` (never `x + y <= n`, which a
        // ZIP64 value near Int.max overflows).
        var eocd = -1
        var o = n - 22
        while o >= max(0, n - 22 - 65_535) {
            if u32(o) == 0x0605_4B50 { eocd = o; break }
            o -= 1
        }
        guard eocd >= 0 else { throw bad("no ZIP end-of-central-directory record (not a torch.save zip file?)") }
        var count = u16(eocd + 10), dirSize = u32(eocd + 12), dirOffset = u32(eocd + 16)
        if (count == 0xFFFF || dirOffset == 0xFFFF_FFFF), eocd >= 20, u32(eocd - 20) == 0x0706_4B50 {
            let z64 = u64(eocd - 20 + 8)
            guard z64 >= 0, z64 <= n - 56, u32(z64) == 0x0606_4B50 else { throw bad("bad ZIP64 end record") }
            count = u64(z64 + 32); dirSize = u64(z64 + 40); dirOffset = u64(z64 + 48)
        }
        guard dirOffset >= 0, dirSize >= 0, dirSize <= n, dirOffset <= n - dirSize, count >= 0, count <= 1_000_000 else {
            throw bad("central directory outside the file")
        }
        var entries: [String: Entry] = [:]
        var p = dirOffset
        for _ in 0..<count {
            guard p + 46 <= n, u32(p) == 0x0201_4B50 else { throw bad("central directory entry at byte \(p) is damaged") }
            let flags = u16(p + 8), method = u16(p + 14)
            var compressed = u32(p + 20), size = u32(p + 24)
            let nameLength = u16(p + 28), extraLength = u16(p + 30), commentLength = u16(p + 32)
            var local = u32(p + 42)
            guard p + 46 + nameLength + extraLength + commentLength <= n else { throw bad("central directory entry runs past the file") }
            let name = String(decoding: d[(p + 46)..<(p + 46 + nameLength)], as: UTF8.self)
            // ZIP64 extra field (id 1): the 0xFFFFFFFF fields in order size, compressed, local offset.
            var e = p + 46 + nameLength
            let extraEnd = e + extraLength
            while e + 4 <= extraEnd {
                let id = u16(e), len = u16(e + 2)
                if id == 1 {
                    // A field whose length claims more than the extra block holds is read no further.
                    let fieldEnd = min(e + 4 + len, extraEnd)
                    var f = e + 4
                    if size == 0xFFFF_FFFF, f + 8 <= fieldEnd { size = u64(f); f += 8 }
                    if compressed == 0xFFFF_FFFF, f + 8 <= fieldEnd { compressed = u64(f); f += 8 }
                    if local == 0xFFFF_FFFF, f + 8 <= fieldEnd { local = u64(f); f += 8 }
                }
                e += 4 + len
            }
            guard flags & 1 == 0 else { throw bad("entry '\(name)' is encrypted") }
            guard method == 0, compressed == size else {
                throw bad("entry '\(name)' is compressed (method \(method)); torch.save stores entries uncompressed")
            }
            guard local >= 0, local <= n - 30, u32(local) == 0x0403_4B50 else { throw bad("local header of '\(name)' is damaged") }
            let start = local + 30 + u16(local + 26) + u16(local + 28)
            guard size >= 0, start <= n, size <= n - start else { throw bad("entry '\(name)' runs past the end of the file") }
            entries[name] = Entry(name: name, range: start..<(start + size))
            p += 46 + nameLength + extraLength + commentLength
        }
        return entries
    }
}
