import Foundation

/// A memory-mapped `.safetensors` file: an 8-byte little-endian header length,
/// a JSON header {name: {dtype, shape, data_offsets: [begin, end]}}, then the
/// data. Every offset is checked against the file before use.
public final class SafetensorsFile: @unchecked Sendable {
    public struct Entry: Sendable, Equatable {
        public var dtype: String
        public var shape: [Int]
        /// Byte range within the data section.
        public var begin: Int
        public var end: Int
    }

    public let path: String
    public let entries: [String: Entry]
    public let metadata: [String: String]
    let file: MappedFile
    private let dataStart: Int

    public init(path: String) throws(WeightError) {
        self.path = path
        let file = try MappedFile(path: path)
        let data = file.data
        guard data.count >= 8 else { throw .malformedHeader(path: path, reason: "shorter than 8 bytes") }
        let headerLength = data.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
        guard headerLength <= UInt64(data.count - 8), headerLength <= 100_000_000 else {
            throw .malformedHeader(path: path, reason: "header length \(headerLength) exceeds the file")
        }
        let start = 8 + Int(headerLength)
        let json: Any
        do {
            json = try JSONSerialization.jsonObject(with: data.subdata(in: 8..<start))
        } catch {
            throw .malformedHeader(path: path, reason: "header is not JSON")
        }
        guard let header = json as? [String: Any] else { throw .malformedHeader(path: path, reason: "header is not an object") }
        var entries: [String: Entry] = [:]
        var metadata: [String: String] = [:]
        let dataSize = data.count - start
        for (key, value) in header {
            if key == "__metadata__" {
                metadata = (value as? [String: String]) ?? [:]
                continue
            }
            guard let info = value as? [String: Any], let dtype = info["dtype"] as? String,
                  let shape = (info["shape"] as? [NSNumber])?.map(\.intValue),
                  let offsets = (info["data_offsets"] as? [NSNumber])?.map(\.intValue), offsets.count == 2 else {
                throw .malformedHeader(path: path, reason: "entry '\(key)' lacks dtype, shape or data_offsets")
            }
            guard shape.allSatisfy({ $0 >= 0 }) else { throw .outOfBounds(path: path, key: key, reason: "has a negative dimension") }
            let (begin, end) = (offsets[0], offsets[1])
            guard begin >= 0, end >= begin, end <= dataSize else {
                throw .outOfBounds(path: path, key: key, reason: "spans bytes \(begin)..<\(end) of a \(dataSize)-byte data section")
            }
            if let size = Self.elementSize(dtype) {
                let (count, overflow) = shape.reduce((1, false)) { acc, d in
                    let (p, o) = acc.0.multipliedReportingOverflow(by: d)
                    return (p, acc.1 || o)
                }
                let (bytes, bytesOverflow) = count.multipliedReportingOverflow(by: size)
                guard !overflow, !bytesOverflow, bytes == end - begin else {
                    throw .outOfBounds(path: path, key: key, reason: "has \(end - begin) bytes for shape \(shape) of \(dtype)")
                }
            }
            entries[key] = Entry(dtype: dtype, shape: shape, begin: begin, end: end)
        }
        self.entries = entries
        self.metadata = metadata
        self.file = file
        dataStart = start
    }

    static func elementSize(_ dtype: String) -> Int? {
        switch dtype {
        case "F32", "I32", "U32": 4
        case "F16", "BF16", "I16", "U16": 2
        case "F64", "I64", "U64": 8
        case "I8", "U8", "BOOL": 1
        default: nil
        }
    }

    /// A tensor widened to float32 (from F32, F16 or BF16).
    public func floats(_ key: String) throws(WeightError) -> [Float] {
        guard let e = entries[key] else { throw .missingTensor(key: key, expectedShape: []) }
        guard let dtype = HalfPrecision.DType(rawValue: e.dtype) else { throw .unsupportedDType(path: path, key: key, dtype: e.dtype) }
        let count = e.shape.reduce(1, *)
        return [Float](unsafeUninitializedCapacity: count) { out, initialized in
            if count > 0, let src = rawBytes(key)?.baseAddress, let dst = out.baseAddress {
                HalfPrecision.widen(src, dtype: dtype, count: count, into: dst)
            }
            initialized = count
        }
    }

    /// A tensor's bytes inside the mapping (valid while this file object lives).
    public func rawBytes(_ key: String) -> UnsafeRawBufferPointer? {
        guard let e = entries[key], let base = file.bytes.baseAddress else { return nil }
        return UnsafeRawBufferPointer(start: base + dataStart + e.begin, count: e.end - e.begin)
    }

    /// An integer tensor (I64 or I32), for token ids in fixtures.
    public func integers(_ key: String) throws(WeightError) -> [Int] {
        guard let e = entries[key] else { throw .missingTensor(key: key, expectedShape: []) }
        guard ["I64", "I32"].contains(e.dtype) else { throw .unsupportedDType(path: path, key: key, dtype: e.dtype) }
        let count = e.shape.reduce(1, *)
        guard count > 0, let bytes = rawBytes(key) else { return [] }
        return e.dtype == "I64"
            ? (0..<count).map { Int(bytes.loadUnaligned(fromByteOffset: 8 * $0, as: Int64.self)) }
            : (0..<count).map { Int(bytes.loadUnaligned(fromByteOffset: 4 * $0, as: Int32.self)) }
    }
}
