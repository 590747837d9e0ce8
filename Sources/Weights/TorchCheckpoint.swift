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
        guard count > 0 else { return [] }
        // The elements the view can reach, widened once (the pickle machine checked the span against the
        // storage), then gathered in row-major order of the view's shape; a contiguous view is the span itself.
        let span = 1 + zip(t.shape, t.stride).reduce(0) { $0 + ($1.0 - 1) * $1.1 }
        let values = raw.withUnsafeBytes { bytes -> [Float]? in
            guard let base = bytes.baseAddress else { return nil }
            let src = base + t.offset * size
            if let dtype = HalfPrecision.DType(rawValue: t.dtype) {
                return [Float](unsafeUninitializedCapacity: span) { out, initialized in
                    HalfPrecision.widen(src, dtype: dtype, count: span, into: out.baseAddress!)
                    initialized = span
                }
            }
            return (0..<span).map { Float(src.loadUnaligned(fromByteOffset: 8 * $0, as: Double.self)) }  // F64
        }
        guard let values else {
            throw .outOfBounds(path: path, key: key, reason: "storage \(t.storage.key) is empty")
        }
        // Row-major strides of the shape (size-1 dimensions can have any stride).
        var expected = 1, rowMajor = true
        for (dim, stride) in zip(t.shape, t.stride).reversed() where dim > 1 {
            rowMajor = rowMajor && stride == expected
            expected *= dim
        }
        if rowMajor { return values }
        var out = [Float](repeating: 0, count: count)
        var index = [Int](repeating: 0, count: t.shape.count)
        var source = 0
        for n in 0..<count {
            out[n] = values[source]
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
        return out
    }
}
