import Foundation

/// Writes float tensors to a `.safetensors` file as F32, F16 or BF16 (round to
/// nearest even), or I8 (values already integral in [-127, 127], as
/// `flamingo quantize` makes them), keys sorted, data 8-byte aligned as the
/// format requires.
/// Written to a temporary name in the same directory, then renamed.
public enum SafetensorsWriter {
    public enum DType: String, Sendable, CaseIterable {
        case f32 = "F32", f16 = "F16", bf16 = "BF16", i8 = "I8", u8 = "U8"

        public var size: Int {
            switch self {
            case .f32: 4
            case .f16, .bf16: 2
            case .i8, .u8: 1
            }
        }
    }

    /// A tensor to write: its shape and how to get its values. Values are loaded one tensor at a
    /// time while writing, so converting a multi-gigabyte model never holds it all in memory.
    public struct Tensor {
        public var shape: [Int]
        /// This tensor's dtype; nil: the file's.
        public var dtype: DType?
        public var load: () throws -> [Float]

        public init(shape: [Int], dtype: DType? = nil, load: @escaping () throws -> [Float]) {
            self.shape = shape
            self.dtype = dtype
            self.load = load
        }
    }

    public static func write(_ tensors: [String: Tensor], dtype: DType, metadata: [String: String] = [:], to url: URL) throws {
        var header: [String: Any] = [:]
        if !metadata.isEmpty { header["__metadata__"] = metadata }
        var offset = 0
        let sorted = tensors.sorted { $0.key < $1.key }
        for (key, t) in sorted {
            let bytes = t.shape.reduce(1, *) * (t.dtype ?? dtype).size
            header[key] = ["dtype": (t.dtype ?? dtype).rawValue, "shape": t.shape, "data_offsets": [offset, offset + bytes]]
            offset += bytes
        }
        var json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        while (8 + json.count) % 8 != 0 { json.append(0x20) }
        let temporary = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).tmp-\(getpid())")
        FileManager.default.createFile(atPath: temporary.path, contents: nil)
        let handle = try FileHandle(forWritingTo: temporary)
        do {
            var length = UInt64(json.count).littleEndian
            try handle.write(contentsOf: Data(bytes: &length, count: 8))
            try handle.write(contentsOf: json)
            for (key, t) in sorted {
                let values = try t.load()
                guard values.count == t.shape.reduce(1, *) else {
                    throw WeightError.outOfBounds(path: url.path, key: key, reason: "has \(values.count) values for shape \(t.shape)")
                }
                let tensorType = t.dtype ?? dtype
                var out = Data(count: values.count * tensorType.size)
                out.withUnsafeMutableBytes { raw in
                    switch tensorType {
                    case .f32:
                        values.withUnsafeBytes { raw.copyMemory(from: $0) }
                    case .f16:
                        for (i, v) in values.enumerated() { raw.storeBytes(of: Float16(v).bitPattern.littleEndian, toByteOffset: 2 * i, as: UInt16.self) }
                    case .bf16:
                        for (i, v) in values.enumerated() { raw.storeBytes(of: bfloat16(v).littleEndian, toByteOffset: 2 * i, as: UInt16.self) }
                    case .i8:
                        for (i, v) in values.enumerated() { raw.storeBytes(of: Int8(max(-127, min(127, v.rounded()))), toByteOffset: i, as: Int8.self) }
                    case .u8:
                        for (i, v) in values.enumerated() { raw.storeBytes(of: UInt8(max(0, min(255, v.rounded()))), toByteOffset: i, as: UInt8.self) }
                    }
                }
                try handle.write(contentsOf: out)
            }
            try handle.synchronize()
            try handle.close()
            if rename(temporary.path, url.path) != 0 { throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: url.path]) }
        } catch {
            try? handle.close()
            try? FileManager.default.removeItem(at: temporary)
            throw error
        }
    }

    /// float32 -> bfloat16 bits, round to nearest even (NaN stays NaN).
    static func bfloat16(_ v: Float) -> UInt16 {
        let bits = v.bitPattern
        if v.isNaN { return UInt16(bits >> 16) | 0x40 }
        let rounded = bits &+ 0x7FFF &+ ((bits >> 16) & 1)
        return UInt16(rounded >> 16)
    }
}
