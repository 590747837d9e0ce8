import CKernels
import Foundation

/// Element-wise and row-wise kernels over raw buffers: no allocation, the
/// vector loops in CKernels (AVX-512, AVX2 or baseline, chosen at run time).
/// Shapes are (rows, columns) row-major unless stated.
public enum Ops {
    /// LayerNorm over each row of `x` (rows, n), in place: (x - mean) / sqrt(var + eps) * w [+ b].
    /// Rows are split across cores when there are many.
    @inlinable
    public static func layerNorm(
        _ x: UnsafeMutablePointer<Float>, rows: Int, columns n: Int,
        weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?, eps: Float
    ) {
        layerNorm(x, into: x, rows: rows, columns: n, weight: weight, bias: bias, eps: eps)
    }

    /// LayerNorm of each row of `x` (rows, n) into `out` (which may be `x`).
    @inlinable
    public static func layerNorm(
        _ x: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>, rows: Int, columns n: Int,
        weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?, eps: Float
    ) {
        let (xs, os) = (UncheckedPointer(UnsafeMutablePointer(mutating: x)), UncheckedPointer(out))
        let (ws, bs) = (UncheckedPointer(UnsafeMutablePointer(mutating: weight)),
                        bias.map { UncheckedPointer(UnsafeMutablePointer(mutating: $0)) })
        Parallel.forEachChunk(rows, minimumPerWorker: max(1, 65536 / max(1, n))) { range in
            let offset = range.lowerBound * n
            flamingo_layer_norm_rows(xs.pointer + offset, os.pointer + offset, range.count, n,
                                     ws.pointer, bs?.pointer, eps)
        }
    }

    /// Softmax over each row in place (row r at x + r · stride), max-subtracted. A row
    /// whose entries are all -inf becomes uniform, as PyTorch's masked_fill(-max) + softmax gives.
    @inlinable
    public static func softmaxRows(_ x: UnsafeMutablePointer<Float>, rows: Int, columns n: Int, stride: Int? = nil) {
        flamingo_softmax_rows(x, rows, n, stride ?? n)
    }

    /// GELU with erf (PyTorch nn.GELU()), in place, split across cores; erf to within 4e-7.
    @inlinable
    public static func gelu(_ x: UnsafeMutablePointer<Float>, count: Int) {
        let base = UncheckedPointer(x)
        Parallel.forEachChunk(count, minimumPerWorker: 1 << 16) { range in
            flamingo_gelu(base.pointer + range.lowerBound, range.count)
        }
    }

    /// QuickGELU, x · σ(1.702x) (OpenAI CLIP), in place, split across cores. With `bias` (columns),
    /// x is (count / columns, columns) and the bias is added to each row first.
    @inlinable
    public static func quickGelu(_ x: UnsafeMutablePointer<Float>, count: Int, bias: UnsafePointer<Float>? = nil, columns: Int = 1) {
        precondition(bias == nil || (columns > 0 && count % columns == 0), "QuickGELU with a bias needs whole rows of \(columns)")
        let base = UncheckedPointer(x)
        let bs = bias.map { UncheckedPointer(UnsafeMutablePointer(mutating: $0)) }
        let rows = bias == nil ? count : count / columns, width = bias == nil ? 1 : columns
        Parallel.forEachChunk(rows, minimumPerWorker: max(1, (1 << 16) / width)) { range in
            flamingo_quick_gelu(base.pointer + range.lowerBound * width, range.count * width, bs?.pointer, width)
        }
    }

    /// y = exp(x) for `count` values (the vectorised exp the kernels share; y may be x).
    @inlinable
    public static func exp(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, count: Int) {
        flamingo_exp(x, y, count)
    }

    /// The instruction set the vector kernels run with here ("avx512", "avx2" or "baseline").
    public static var vectorInstructionSet: String { String(cString: flamingo_vector_kernels_isa()) }

    /// Selects the vector kernels' instruction set, if this CPU has it (tests cover each one this way).
    @discardableResult
    public static func selectVectorInstructionSet(_ name: String) -> Bool { flamingo_vector_kernels_select(name) != 0 }

    /// log-softmax of one row into `out`.
    @inlinable
    public static func logSoftmax(_ x: UnsafePointer<Float>, count n: Int, into out: UnsafeMutablePointer<Float>) {
        var m = -Float.infinity
        for j in 0..<n { m = max(m, x[j]) }
        var sum: Double = 0
        for j in 0..<n { sum += Double(expf(x[j] - m)) }
        let lse = m + Float(log(sum))
        for j in 0..<n { out[j] = x[j] - lse }
    }
}

/// A raw pointer that parallel loops over disjoint ranges may share.
public struct UncheckedPointer: @unchecked Sendable {
    public let pointer: UnsafeMutablePointer<Float>
    public init(_ pointer: UnsafeMutablePointer<Float>) { self.pointer = pointer }
}
