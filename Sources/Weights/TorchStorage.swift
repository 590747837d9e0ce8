/// A storage referenced by a checkpoint's pickle: its entry `data/<key>` in
/// the zip archive and its element type (from the storage class's name).
public struct TorchStorage: Sendable, Equatable {
    public var key: String
    /// Safetensors-style dtype: F32, F16, BF16, F64, I64, I32, I16, I8, U8, BOOL.
    public var dtype: String
    public var elementCount: Int

    static let dtypes: [String: (String, Int)] = [
        "FloatStorage": ("F32", 4), "HalfStorage": ("F16", 2), "BFloat16Storage": ("BF16", 2),
        "DoubleStorage": ("F64", 8), "LongStorage": ("I64", 8), "IntStorage": ("I32", 4),
        "ShortStorage": ("I16", 2), "CharStorage": ("I8", 1), "ByteStorage": ("U8", 1), "BoolStorage": ("BOOL", 1),
    ]

    static func elementSize(_ dtype: String) -> Int { dtypes.values.first { $0.0 == dtype }?.1 ?? 1 }
}
