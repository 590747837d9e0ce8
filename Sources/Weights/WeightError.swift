import Foundation

/// Failures loading weights. Each names the file or tensor and, for shapes,
/// both the expected and the actual shape.
public enum WeightError: Error, LocalizedError, Equatable, Sendable {
    case unreadable(path: String, reason: String)
    case malformedHeader(path: String, reason: String)
    case outOfBounds(path: String, key: String, reason: String)
    case unsupportedDType(path: String, key: String, dtype: String)
    case missingTensor(key: String, expectedShape: [Int])
    case wrongShape(key: String, expected: [Int], actual: [Int])
    case unknownTensors(keys: [String])
    case duplicateTensor(key: String, paths: [String])
    /// A PyTorch checkpoint (`torch.save` zip + pickle) that cannot be read safely.
    case malformedCheckpoint(path: String, reason: String)

    public var errorDescription: String? {
        switch self {
        case let .unreadable(path, reason): "\(path): cannot be read: \(reason)"
        case let .malformedHeader(path, reason): "\(path): not a valid safetensors file: \(reason)"
        case let .outOfBounds(path, key, reason): "\(path): tensor '\(key)' \(reason)"
        case let .unsupportedDType(path, key, dtype): "\(path): tensor '\(key)' has dtype \(dtype); only F32, F16 and BF16 weights are supported"
        case let .missingTensor(key, shape): "missing tensor '\(key)' (expected shape \(shape))"
        case let .wrongShape(key, expected, actual): "tensor '\(key)' has shape \(actual), expected \(expected)"
        case let .unknownTensors(keys):
            "\(keys.count) unknown tensor(s) in the checkpoint: " + keys.prefix(10).joined(separator: ", ") + (keys.count > 10 ? ", ..." : "")
        case let .duplicateTensor(key, paths): "tensor '\(key)' appears in more than one shard: \(paths.joined(separator: ", "))"
        case let .malformedCheckpoint(path, reason): "\(path): not a readable PyTorch checkpoint: \(reason)"
        }
    }
}
