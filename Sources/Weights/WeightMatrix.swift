import CHalf

/// A (rows, columns) row-major weight matrix, either float32 in memory, or
/// F16/BF16 or int8 (with one float32 scale per row) read from the
/// memory-mapped checkpoint and widened to float32 a block of rows at a time
/// where it is used (so a 3B model in half precision needs half the memory,
/// in int8 a quarter, and loads without converting anything).
public struct WeightMatrix: @unchecked Sendable {
    public enum Storage {
        case float32([Float])
        /// Little-endian 16-bit values in a mapping owned by `owner`.
        case half(UnsafeRawPointer, bfloat16: Bool)
        /// Int8 values in [-127, 127] in a mapping owned by `owner`; row r is `scales[r]` times its values
        /// (docs/QUANTIZATION.md).
        case int8(UnsafeRawPointer, scales: [Float])
        /// 4-bit values packed two per byte, rows of columns / 2 bytes, with one F16 scale per block of 32
        /// (rows × columns / 32 values), both in a mapping owned by `owner` (docs/QUANTIZATION.md).
        case q4(UnsafeRawPointer, scales: UnsafeRawPointer)
    }

    public let rows: Int
    public let columns: Int
    public let storage: Storage
    /// Keeps the mapping alive.
    let owner: AnyObject?
    /// Int8 storage: oneDNN's matmul over the same weights, for products of many input rows (nil where
    /// oneDNN could not set it up; those products then widen the weights to float32).
    public let int8Matmul: Int8Matmul?

    public init(rows: Int, columns: Int, values: [Float]) {
        precondition(values.count == rows * columns, "WeightMatrix: \(values.count) values for \(rows)x\(columns)")
        self.rows = rows
        self.columns = columns
        storage = .float32(values)
        owner = nil
        int8Matmul = nil
    }

    init(rows: Int, columns: Int, half: UnsafeRawPointer, bfloat16: Bool, owner: AnyObject) {
        self.rows = rows
        self.columns = columns
        storage = .half(half, bfloat16: bfloat16)
        self.owner = owner
        int8Matmul = nil
    }

    init(rows: Int, columns: Int, int8: UnsafeRawPointer, scales: [Float], owner: AnyObject, matmul: Int8Matmul?) {
        self.rows = rows
        self.columns = columns
        storage = .int8(int8, scales: scales)
        self.owner = owner
        int8Matmul = matmul
    }

    init(rows: Int, columns: Int, q4: UnsafeRawPointer, scales: UnsafeRawPointer, owner: AnyObject) {
        self.rows = rows
        self.columns = columns
        storage = .q4(q4, scales: scales)
        self.owner = owner
        int8Matmul = nil
    }

    public var count: Int { rows * columns }

    /// Bytes at rest: the values and, when quantized, their scales.
    public var bytesAtRest: Int {
        switch storage {
        case .float32: 4 * count
        case .half: 2 * count
        case .int8: count + 4 * rows
        case .q4: count / 2 + 2 * (count / 32)
        }
    }

    /// Whether the values are kept in 4 bits.
    public var isQ4: Bool { if case .q4 = storage { true } else { false } }

    /// Whether the values are kept as int8 with per-row scales.
    public var isInt8: Bool { if case .int8 = storage { true } else { false } }

    /// Whether the values are kept in 16 bits.
    public var isHalf: Bool { if case .half = storage { true } else { false } }

    /// Rows `range` as float32 into `dst` (range.count · columns values).
    public func widen(rows range: Range<Int>, into dst: UnsafeMutablePointer<Float>) {
        let n = range.count * columns
        switch storage {
        case let .float32(values):
            values.withUnsafeBufferPointer { dst.update(from: $0.baseAddress! + range.lowerBound * columns, count: n) }
        case let .half(base, bfloat16):
            HalfPrecision.widen(base + 2 * range.lowerBound * columns, dtype: bfloat16 ? .bf16 : .f16, count: n, into: dst)
        case let .int8(base, scales):
            scales.withUnsafeBufferPointer { s in
                flamingo_i8_widen(base.assumingMemoryBound(to: Int8.self), s.baseAddress, columns, range.lowerBound,
                                  range.upperBound, dst)
            }
        case let .q4(base, scales):
            flamingo_q4_widen(base.assumingMemoryBound(to: UInt8.self), scales.assumingMemoryBound(to: UInt16.self), columns,
                              range.lowerBound, range.upperBound, dst)
        }
    }

    /// The product of decoding for whichever storage is at rest: `halfProduct`, `int8Product` or
    /// `q4Product` (float32 weights go through BLAS; Linear.apply checks the storage first).
    public func rowProduct(_ x: UnsafePointer<Float>, inputRows: Int, rows range: Range<Int>,
                           into out: UnsafeMutablePointer<Float>, ldOut: Int, beta: Float) {
        switch storage {
        case .int8: int8Product(x, inputRows: inputRows, rows: range, into: out, ldOut: ldOut, beta: beta)
        case .q4: q4Product(x, inputRows: inputRows, rows: range, into: out, ldOut: ldOut, beta: beta)
        case .half, .float32: halfProduct(x, inputRows: inputRows, rows: range, into: out, ldOut: ldOut, beta: beta)
        }
    }

    /// The 4-bit counterpart of `halfProduct`. 4-bit storage only.
    public func q4Product(_ x: UnsafePointer<Float>, inputRows: Int, rows range: Range<Int>,
                          into out: UnsafeMutablePointer<Float>, ldOut: Int, beta: Float) {
        guard case let .q4(base, scales) = storage else {
            preconditionFailure("q4Product needs 4-bit storage")
        }
        flamingo_q4_gemv(base.assumingMemoryBound(to: UInt8.self), scales.assumingMemoryBound(to: UInt16.self), columns, x,
                         inputRows, out, ldOut, range.lowerBound, range.upperBound, beta)
    }

    /// The int8 counterpart of `halfProduct`: each weight byte is read once, widened and scaled in
    /// registers. Int8 storage only.
    public func int8Product(_ x: UnsafePointer<Float>, inputRows: Int, rows range: Range<Int>,
                            into out: UnsafeMutablePointer<Float>, ldOut: Int, beta: Float) {
        guard case let .int8(base, scales) = storage else {
            preconditionFailure("int8Product needs int8 storage")
        }
        scales.withUnsafeBufferPointer { s in
            flamingo_i8_gemv(base.assumingMemoryBound(to: Int8.self), s.baseAddress, columns, x, inputRows, out, ldOut,
                             range.lowerBound, range.upperBound, beta)
        }
    }

    /// out[i · ldOut + r] = beta · out[i · ldOut + r] + W[r, :] · x[i, :] for the output rows `range` and
    /// the `inputRows` rows of x (each `columns` long): the product of decoding (one row, or one per beam),
    /// reading each 16-bit weight once instead of widening a tile first. Half storage only: callers send
    /// float32 weights through BLAS (Linear.apply checks the storage first).
    public func halfProduct(_ x: UnsafePointer<Float>, inputRows: Int, rows range: Range<Int>,
                            into out: UnsafeMutablePointer<Float>, ldOut: Int, beta: Float) {
        guard case let .half(base, bfloat16) = storage else {
            preconditionFailure("halfProduct needs 16-bit storage; float32 weights go through BLAS")
        }
        flamingo_half_gemv(base.assumingMemoryBound(to: UInt16.self), bfloat16 ? 1 : 0, columns, x, inputRows,
                           out, ldOut, range.lowerBound, range.upperBound, beta)
    }

    /// All values as float32 (a copy for half storage).
    public func float32() -> [Float] {
        if case let .float32(values) = storage { return values }
        return [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            if let base = buffer.baseAddress, count > 0 { widen(rows: 0..<rows, into: base) }
            initialized = count
        }
    }
}
