import Foundation

/// A file written by `torch.save` (zip format, PyTorch >= 1.6): OpenFlamingo's
/// `checkpoint.pt`, Hugging Face `pytorch_model*.bin`, open_clip state dicts.
/// The pickle is read by `PickleMachine` (nothing is executed) and tensors
/// are read from the memory-mapped archive, widened to float32 on request.
public final class TorchCheckpoint: @unchecked Sendable {
    public let path: String
    public let root: PickleNode
    let archive: ZipArchive
    /// The archive's top folder ("archive" for torch >= 2, the file stem before).
    let prefix: String

    public init(path: String) throws(WeightError) {
        self.path = path
        guard ZipArchive.looksLikeZip(path: path) else {
            throw .malformedCheckpoint(path: path, reason: "not a zip archive; only torch.save's zip format (PyTorch >= 1.6) is read")
        }
        archive = try ZipArchive(path: path)
        guard let pickle = archive.entries.keys.filter({ $0.hasSuffix("/data.pkl") && $0.split(separator: "/").count == 2 }).sorted().first else {
            throw .malformedCheckpoint(path: path, reason: "no */data.pkl entry")
        }
        prefix = String(pickle.dropLast("/data.pkl".count))
        if let order = try? archive.data("\(prefix)/byteorder"), String(decoding: order, as: UTF8.self) != "little" {
            throw .malformedCheckpoint(path: path, reason: "big-endian checkpoints are not supported")
        }
        var machine = PickleMachine(try archive.data(pickle), path: path)
        root = try machine.run()
    }

    /// The state dict: the root dict, or the dict under `model_state_dict` /
    /// `state_dict` when the root wraps it. Keys keep any `module.` prefix.
    public func stateDict() throws(WeightError) -> [String: TorchTensor] {
        var dict = root
        for wrapper in ["model_state_dict", "state_dict"] {
            if let inner = root[wrapper], inner.isDict { dict = inner; break }
        }
        guard dict.isDict else { throw .malformedCheckpoint(path: path, reason: "the pickle's root is not a dict") }
        var out: [String: TorchTensor] = [:]
        for (key, value) in dict.pairs {
            guard let name = key.string, let tensor = value.tensor else { continue }
            out[name] = tensor
        }
        return out
    }

    /// A tensor's values, contiguous in row-major order, as float32.
    public func floats(_ t: TorchTensor, key: String) throws(WeightError) -> [Float] {
        guard ["F32", "F16", "BF16", "F64"].contains(t.dtype) else { throw .unsupportedDType(path: path, key: key, dtype: t.dtype) }
        let size = TorchStorage.elementSize(t.dtype)
        let raw = try archive.data("\(prefix)/data/\(t.storage.key)")
        guard raw.count >= t.storage.elementCount * size else {
            throw .outOfBounds(path: path, key: key, reason: "storage \(t.storage.key) has \(raw.count) bytes for \(t.storage.elementCount) elements")
        }
        let count = t.count
        var out = [Float](repeating: 0, count: count)
        guard count > 0 else { return out }
        raw.withUnsafeBytes { bytes in
            func load(_ i: Int) -> Float {
                switch t.dtype {
                case "F32": bytes.loadUnaligned(fromByteOffset: 4 * i, as: Float.self)
                case "F16": Float(Float16(bitPattern: bytes.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)))
                case "BF16": Float(bitPattern: UInt32(bytes.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)) << 16)
                default: Float(bytes.loadUnaligned(fromByteOffset: 8 * i, as: Double.self))
                }
            }
            // Walk the strided view in row-major order of its shape.
            var index = [Int](repeating: 0, count: t.shape.count)
            var source = t.offset
            for n in 0..<count {
                out[n] = load(source)
                var axis = t.shape.count - 1
                while axis >= 0 {
                    index[axis] += 1
                    source += t.stride[axis]
                    if index[axis] < t.shape[axis] { break }
                    source -= t.stride[axis] * t.shape[axis]
                    index[axis] = 0
                    axis -= 1
                }
            }
        }
        return out
    }
}
