import Foundation
import Weights

/// The tensors of a checkpoint in any of the layouts users download: a
/// safetensors file, a torch.save file (`.pt`, `.bin`), or a Hugging Face
/// directory with `model.safetensors`, `pytorch_model.bin` or their sharded
/// `*.index.json` forms. Values are read (and widened to float32) on demand.
public final class TensorSource: @unchecked Sendable {
    public struct Item: @unchecked Sendable {
        public var shape: [Int]
        public var load: () throws -> [Float]
    }

    public let description: String
    public private(set) var items: [String: Item] = [:]

    public init(path: String) throws {
        description = path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw ConversionError.missingFile(path: path, what: "checkpoint")
        }
        if isDirectory.boolValue {
            let dir = URL(fileURLWithPath: path)
            for (index, single) in [("model.safetensors.index.json", "model.safetensors"), ("pytorch_model.bin.index.json", "pytorch_model.bin")] {
                let indexURL = dir.appendingPathComponent(index)
                if FileManager.default.fileExists(atPath: indexURL.path) {
                    for shard in try Self.shards(indexURL) { try add(file: dir.appendingPathComponent(shard).path) }
                    return
                }
                if FileManager.default.fileExists(atPath: dir.appendingPathComponent(single).path) {
                    try add(file: dir.appendingPathComponent(single).path)
                    return
                }
            }
            throw ConversionError.missingFile(path: path, what: "model.safetensors or pytorch_model.bin (or a sharded index)")
        }
        try add(file: path)
    }

    /// Keys with `module.` (DistributedDataParallel) stripped.
    static func clean(_ key: String) -> String {
        key.hasPrefix("module.") ? String(key.dropFirst("module.".count)) : key
    }

    private func add(file: String) throws {
        if file.hasSuffix(".safetensors") {
            let st = try SafetensorsFile(path: file)
            for (key, entry) in st.entries {
                try insert(Self.clean(key), Item(shape: entry.shape, load: { try st.floats(key) }), file: file)
            }
        } else {
            let checkpoint = try TorchCheckpoint(path: file)
            for (key, t) in try checkpoint.stateDict() {
                try insert(Self.clean(key), Item(shape: t.shape, load: { try checkpoint.floats(t, key: key) }), file: file)
            }
        }
    }

    private func insert(_ key: String, _ item: Item, file: String) throws {
        if items[key] != nil { throw ConversionError.mismatch(key: key, reason: "appears twice in \(description) (last in \(file))") }
        items[key] = item
    }

    private static func shards(_ index: URL) throws -> [String] {
        guard let data = try? Data(contentsOf: index),
              let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let map = json["weight_map"] as? [String: String] else {
            throw ConversionError.badConfig(path: index.path, reason: "not a sharded-checkpoint index (no weight_map)")
        }
        let files = Set(map.values).sorted()
        guard files.allSatisfy({ !$0.contains("/") && !$0.hasPrefix(".") }) else {
            throw ConversionError.badConfig(path: index.path, reason: "shard names must be plain file names in the same directory")
        }
        return files
    }

    public func shape(_ key: String) -> [Int]? { items[key]?.shape }

    public func load(_ key: String) throws -> [Float] {
        guard let item = items[key] else { throw ConversionError.missingTensor(source: description, key: key) }
        return try item.load()
    }
}
