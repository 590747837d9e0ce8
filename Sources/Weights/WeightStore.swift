import Foundation

/// All tensors of a model (one safetensors file, or the shards listed in
/// `model.safetensors.index.json`), handed out by name with the expected
/// shape. Loading is strict: a missing tensor, a wrong shape, or a tensor
/// nobody asked for (checked by `verifyAllConsumed`) is an error naming it.
public final class WeightStore: @unchecked Sendable {
    private var files: [String: SafetensorsFile] = [:]  // key -> file
    private var consumed: Set<String> = []
    /// Keys that may be present without being used (for example open_clip's
    /// `ln_post`/`proj`, which Flamingo does not apply to the tokens).
    private var tolerated: Set<String> = []

    public var keys: [String] { files.keys.sorted() }
    /// The linear-layer weights taken so far, in order (what `flamingo quantize` quantizes).
    public private(set) var linearWeightKeys: [String] = []
    /// Why oneDNN's int8 matmul could not be set up for a weight (the first one), if it could not: those
    /// weights' products of many rows then widen to float32 (slower, same results within rounding).
    public private(set) var int8MatmulUnavailable: String?
    /// How many of the matrices taken were int8 at rest.
    public private(set) var int8MatrixCount = 0
    /// 4-bit (U8-packed) linear weights taken so far.
    public private(set) var q4MatrixCount = 0

    /// Opens `model.safetensors`, or the shards named by `model.safetensors.index.json`, in `directory`.
    public init(directory: URL) throws(WeightError) {
        let single = directory.appendingPathComponent("model.safetensors")
        let index = directory.appendingPathComponent("model.safetensors.index.json")
        var paths: [String] = []
        if FileManager.default.fileExists(atPath: index.path) {
            guard let data = try? Data(contentsOf: index),
                  let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
                  let map = json["weight_map"] as? [String: String] else {
                throw .malformedHeader(path: index.path, reason: "no weight_map object")
            }
            paths = Set(map.values).sorted().map { directory.appendingPathComponent($0).path }
        } else if FileManager.default.fileExists(atPath: single.path) {
            paths = [single.path]
        } else {
            let shards = ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? [])
                .filter { $0.hasPrefix("model") && $0.hasSuffix(".safetensors") }.sorted()
            guard !shards.isEmpty else {
                throw .unreadable(path: single.path, reason: "no model.safetensors (or index, or model*.safetensors shards)")
            }
            paths = shards.map { directory.appendingPathComponent($0).path }
        }
        try add(paths: paths)
    }

    public init(paths: [String]) throws(WeightError) {
        try add(paths: paths)
    }

    private func add(paths: [String]) throws(WeightError) {
        for path in paths {
            let file = try SafetensorsFile(path: path)
            for key in file.entries.keys {
                if let other = files[key] { throw .duplicateTensor(key: key, paths: [other.path, path]) }
                files[key] = file
            }
        }
    }

    public func contains(_ key: String) -> Bool { files[key] != nil }

    public func shape(of key: String) -> [Int]? { files[key]?.entries[key]?.shape }

    /// The dtype and shape of `key`, if present.
    public func entry(_ key: String) -> (dtype: String, shape: [Int])? {
        files[key]?.entries[key].map { ($0.dtype, $0.shape) }
    }

    /// The values of `key` as float32 (F32/F16/BF16), without marking it used.
    public func values(_ key: String) throws(WeightError) -> [Float] {
        guard let file = files[key] else { throw .missingTensor(key: key, expectedShape: []) }
        return try file.floats(key)
    }

    /// The tensor `key`, which must have exactly `shape`.
    public func take(_ key: String, shape: [Int]) throws(WeightError) -> [Float] {
        try consume(key, shape: shape).file.floats(key)
    }

    /// The file and entry of `key`, which must have exactly `shape`; marks it used.
    private func consume(_ key: String, shape: [Int]) throws(WeightError) -> (file: SafetensorsFile, entry: SafetensorsFile.Entry) {
        guard let file = files[key], let entry = file.entries[key] else {
            throw .missingTensor(key: key, expectedShape: shape)
        }
        guard entry.shape == shape else { throw .wrongShape(key: key, expected: shape, actual: entry.shape) }
        consumed.insert(key)
        return (file, entry)
    }

    /// A 2-D tensor as a `WeightMatrix`: F16/BF16 tensors stay in the mapping when `keepHalf`,
    /// everything else is widened to float32 now. A linear layer's weight (`linear`) may be int8
    /// (dtype I8) with its per-row scales in `<key>_scale` (F32, shape [rows]); it stays in the
    /// mapping (docs/QUANTIZATION.md).
    /// An int8 weight also gets oneDNN's matmul for products of many rows, with the weights reordered into
    /// oneDNN's blocked layout when `packInt8` (a copy; for layers that never decode one token at a time).
    public func takeMatrix(_ key: String, shape: [Int], keepHalf: Bool, linear: Bool = false,
                           packInt8: Bool = false) throws(WeightError) -> WeightMatrix {
        guard shape.count == 2 else { throw .wrongShape(key: key, expected: shape, actual: self.shape(of: key) ?? []) }
        if let file = files[key], file.entries[key]?.dtype == "U8" {
            return try takeQ4Matrix(key, shape: shape, file: file, linear: linear)
        }
        let (file, entry) = try consume(key, shape: shape)
        if linear { linearWeightKeys.append(key) }
        if entry.dtype == "I8" {
            guard linear else {
                throw .unsupportedDType(path: file.path, key: key, dtype: "I8 (int8 is for linear-layer weights only)")
            }
            let scales = try take("\(key)_scale", shape: [shape[0]])
            guard let raw = file.rawBytes(key), let base = raw.baseAddress, raw.count == shape[0] * shape[1] else {
                throw .outOfBounds(path: file.path, key: key, reason: "int8 data does not cover \(shape)")
            }
            int8MatrixCount += 1
            let matmul: Int8Matmul?
            switch Int8Matmul.make(weights: base.assumingMemoryBound(to: Int8.self), rows: shape[0], columns: shape[1],
                                   pack: packInt8, owner: file) {
            case let .success(made): matmul = made
            case let .failure(error):
                matmul = nil
                if int8MatmulUnavailable == nil { int8MatmulUnavailable = "\(key): \(error.localizedDescription)" }
            }
            return WeightMatrix(rows: shape[0], columns: shape[1], int8: base, scales: scales, owner: file, matmul: matmul)
        }
        if keepHalf, ["F16", "BF16"].contains(entry.dtype), let raw = file.rawBytes(key), let base = raw.baseAddress, raw.count > 0 {
            return WeightMatrix(rows: shape[0], columns: shape[1], half: base, bfloat16: entry.dtype == "BF16", owner: file)
        }
        return WeightMatrix(rows: shape[0], columns: shape[1], values: try file.floats(key))
    }

    /// A 4-bit linear weight (docs/QUANTIZATION.md, "q4_block32"): `key` is U8 of shape (rows, columns / 2),
    /// `<key>_scale` F16 of shape (rows, columns / 32); both stay in the mapping.
    private func takeQ4Matrix(_ key: String, shape: [Int], file: SafetensorsFile, linear: Bool) throws(WeightError) -> WeightMatrix {
        guard linear else {
            throw .unsupportedDType(path: file.path, key: key, dtype: "U8 (4-bit values are for linear-layer weights only)")
        }
        guard shape[1] % 32 == 0 else {
            throw .wrongShape(key: key, expected: [shape[0], shape[1] / 2], actual: self.shape(of: key) ?? [])
        }
        let packed = [shape[0], shape[1] / 2], scaleShape = [shape[0], shape[1] / 32]
        let (_, entry) = try consume(key, shape: packed)
        linearWeightKeys.append(key)
        let scaleKey = "\(key)_scale"
        let (scaleFile, scaleEntry) = try consume(scaleKey, shape: scaleShape)
        guard scaleEntry.dtype == "F16" else {
            throw .unsupportedDType(path: scaleFile.path, key: scaleKey, dtype: "\(scaleEntry.dtype) (4-bit block scales are F16)")
        }
        guard let raw = file.rawBytes(key), let base = raw.baseAddress, raw.count == shape[0] * shape[1] / 2,
              let scales = scaleFile.rawBytes(scaleKey), let scaleBase = scales.baseAddress,
              scales.count == 2 * shape[0] * shape[1] / 32 else {
            throw .outOfBounds(path: file.path, key: key, reason: "4-bit data or its scales do not cover \(shape) (\(entry.dtype))")
        }
        q4MatrixCount += 1
        return WeightMatrix(rows: shape[0], columns: shape[1], q4: base, scales: scaleBase, owner: file)
    }

    /// Like `take`, but nil when absent.
    public func takeIfPresent(_ key: String, shape: [Int]) throws(WeightError) -> [Float]? {
        contains(key) ? try take(key, shape: shape) : nil
    }

    /// Marks `key` as known-but-unused, checking its shape when present.
    public func tolerate(_ key: String, shape: [Int]) throws(WeightError) {
        guard let actual = self.shape(of: key) else { return }
        guard actual == shape else { throw .wrongShape(key: key, expected: shape, actual: actual) }
        tolerated.insert(key)
    }

    /// Throws if any tensor in the files was neither taken nor tolerated.
    public func verifyAllConsumed() throws(WeightError) {
        let unknown = files.keys.filter { !consumed.contains($0) && !tolerated.contains($0) }.sorted()
        if !unknown.isEmpty { throw .unknownTensors(keys: unknown) }
    }
}
