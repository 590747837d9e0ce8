import CInt8Matmul

/// oneDNN's int8 matmul over one int8 weight matrix at rest: the product of many input rows (a prompt,
/// a batch of frames) with the rows quantized per token on the fly and summed exactly in int32
/// (Sources/CInt8Matmul, docs/QUANTIZATION.md). Owns the oneDNN objects, freed in deinit.
public final class Int8Matmul: @unchecked Sendable {
    private let handle: OpaquePointer
    /// Keeps the weights' mapping alive (the primitives read it unless packed).
    private let owner: AnyObject?
    public let rows: Int
    public let columns: Int
    /// Whether the weights were reordered into oneDNN's blocked layout (a copy of rows · columns bytes).
    public let isPacked: Bool

    /// nil, with the reason, when oneDNN cannot multiply these weights here.
    public static func make(weights: UnsafePointer<Int8>, rows: Int, columns: Int, pack: Bool,
                            owner: AnyObject?) -> Result<Int8Matmul, Int8MatmulError> {
        var error = [CChar](repeating: 0, count: 256)
        guard let handle = flamingo_i8_matmul_create(weights, rows, columns, pack ? 1 : 0, &error, error.count) else {
            return .failure(.oneDNN(text(error)))
        }
        return .success(Int8Matmul(handle: handle, owner: owner, rows: rows, columns: columns))
    }

    private init(handle: OpaquePointer, owner: AnyObject?, rows: Int, columns: Int) {
        self.handle = handle
        self.owner = owner
        self.rows = rows
        self.columns = columns
        isPacked = flamingo_i8_matmul_is_packed(handle) != 0
    }

    deinit { flamingo_i8_matmul_destroy(handle) }

    /// y[i · ldY + r] = beta · y[i · ldY + r] + xs[i] · scales[r] · Σ_j xq[i, j] · q[r, j] for the
    /// `inputRows` rows of x (inputRows, columns): the rows quantized per token, oneDNN's integer product,
    /// the rescale. `threads` > 1: oneDNN runs with that many threads and `spread` runs the quantization
    /// and the rescale over row ranges (the engine's parallel loop); 1: all on the calling thread.
    public func apply(_ x: UnsafePointer<Float>, inputRows m: Int, scales: UnsafePointer<Float>,
                      into y: UnsafeMutablePointer<Float>, ldY: Int, beta: Float, threads: Int,
                      spread: (Int, (Range<Int>) -> Void) -> Void) throws(Int8MatmulError) {
        let (k, n) = (columns, rows)
        guard m > 0 else { return }
        guard let xqRaw = flamingo_i8_matmul_scratch(0, m * k), let s32Raw = flamingo_i8_matmul_scratch(1, m * n * 4),
              let xsRaw = flamingo_i8_matmul_scratch(2, m * 4) else {
            throw .oneDNN("out of memory for the scratch of \(m) rows")
        }
        let xq = UncheckedMutable(xqRaw.assumingMemoryBound(to: Int8.self))
        let s32 = UncheckedMutable(s32Raw.assumingMemoryBound(to: Int32.self))
        let xs = UncheckedMutable(xsRaw.assumingMemoryBound(to: Float.self))
        let (xIn, yOut) = (UncheckedMutable(UnsafeMutablePointer(mutating: x)), UncheckedMutable(y))
        let scalesIn = UncheckedMutable(UnsafeMutablePointer(mutating: scales))
        let quantize = { (rows: Range<Int>) in
            flamingo_i8_quantize_activations(xIn.pointer + rows.lowerBound * k, rows.count, k,
                                             xq.pointer + rows.lowerBound * k, xs.pointer + rows.lowerBound)
        }
        let rescale = { (rows: Range<Int>) in
            flamingo_i8_rescale_rows(s32.pointer + rows.lowerBound * n, rows.count, n, xs.pointer + rows.lowerBound,
                                     scalesIn.pointer, beta, yOut.pointer + rows.lowerBound * ldY, ldY)
        }
        if threads > 1 { spread(m, quantize) } else { quantize(0..<m) }
        try integerProduct(xq.pointer, inputRows: m, into: s32.pointer, threads: threads)
        if threads > 1 { spread(m, rescale) } else { rescale(0..<m) }
    }

    /// The integer product alone (tests, and the benchmark's int8 limit): s32 (inputRows, rows) =
    /// xq (inputRows, columns) · qᵀ.
    public func integerProduct(_ xq: UnsafePointer<Int8>, inputRows: Int, into s32: UnsafeMutablePointer<Int32>,
                               threads: Int = 0) throws(Int8MatmulError) {
        var error = [CChar](repeating: 0, count: 256)
        guard flamingo_i8_matmul_run_s32(handle, xq, inputRows, s32, Int32(threads), &error, error.count) == 0 else {
            throw .oneDNN(Self.text(error))
        }
    }

    public func integerProduct(_ xq: [Int8], inputRows: Int, threads: Int = 0) throws(Int8MatmulError) -> [Int32] {
        var out = [Int32](repeating: 0, count: inputRows * rows)
        try xq.withUnsafeBufferPointer { x throws(Int8MatmulError) in
            try out.withUnsafeMutableBufferPointer { o throws(Int8MatmulError) in
                try integerProduct(x.baseAddress!, inputRows: inputRows, into: o.baseAddress!, threads: threads)
            }
        }
        return out
    }

    /// The per-token input quantization `apply` uses: (q, scales) of a (rows, columns) matrix.
    public static func quantizeActivations(_ x: [Float], rows: Int, columns: Int) -> (q: [Int8], scales: [Float]) {
        var q = [Int8](repeating: 0, count: rows * columns), scales = [Float](repeating: 0, count: rows)
        flamingo_i8_quantize_activations(x, rows, columns, &q, &scales)
        return (q, scales)
    }

    /// oneDNN's implementation for int8 matmuls on this CPU (for example "brg:avx512_core_vnni").
    public static var implementation: String {
        var text = [CChar](repeating: 0, count: 128)
        flamingo_i8_matmul_isa(&text, text.count)
        return Self.text(text)
    }

    private static func text(_ buffer: [CChar]) -> String {
        String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// A pointer handed to the caller's parallel loop, whose iterations touch disjoint rows.
private struct UncheckedMutable<T>: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<T>
    init(_ pointer: UnsafeMutablePointer<T>) { self.pointer = pointer }
}
