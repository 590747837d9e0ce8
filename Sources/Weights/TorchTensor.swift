/// A tensor in a checkpoint's pickle (`torch._utils._rebuild_tensor_v2`): a
/// strided view of a storage.
public struct TorchTensor: Sendable, Equatable {
    public var storage: TorchStorage
    /// In elements.
    public var offset: Int
    public var shape: [Int]
    /// In elements.
    public var stride: [Int]

    public var dtype: String { storage.dtype }
    public var count: Int { shape.reduce(1, *) }
}
