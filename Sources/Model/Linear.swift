import Tensor
import Weights

/// A PyTorch `nn.Linear`: weight (out, in) row-major, optional bias (out).
/// The weight is float32, or F16/BF16 kept at rest in the mapped checkpoint
/// (nothing is converted at load time): for a few input rows a fused
/// half-precision matrix-vector kernel reads it directly, for more it is
/// widened one block of output rows at a time into a scratch tile that
/// OpenBLAS multiplies.
struct Linear: Sendable {
    let weight: WeightMatrix
    let bias: [Float]?
    let inFeatures: Int
    let outFeatures: Int

    /// Loads `<prefix>.weight` (and `<prefix>.bias` when `bias`); `keepHalf` keeps F16/BF16 weights at rest,
    /// int8 weights (with `<prefix>.weight_scale`) always stay at rest. `packInt8`: int8 weights of a layer
    /// that only ever multiplies many rows (vision encoder, resampler) are also reordered into oneDNN's
    /// blocked layout (docs/QUANTIZATION.md).
    init(_ store: WeightStore, _ prefix: String, in inFeatures: Int, out outFeatures: Int, bias: Bool,
         keepHalf: Bool = false, packInt8: Bool = false) throws(WeightError) {
        try self.init(store, weightKey: "\(prefix).weight", biasKey: bias ? "\(prefix).bias" : nil, in: inFeatures,
                      out: outFeatures, keepHalf: keepHalf, packInt8: packInt8)
    }

    /// The same with the keys named (nn.MultiheadAttention's `in_proj_weight` and `in_proj_bias`).
    init(_ store: WeightStore, weightKey: String, biasKey: String?, in inFeatures: Int, out outFeatures: Int,
         keepHalf: Bool = false, packInt8: Bool = false) throws(WeightError) {
        weight = try store.takeMatrix(weightKey, shape: [outFeatures, inFeatures], keepHalf: keepHalf, linear: true,
                                      packInt8: packInt8)
        self.bias = try biasKey.map { key throws(WeightError) in try store.take(key, shape: [outFeatures]) }
        self.inFeatures = inFeatures
        self.outFeatures = outFeatures
    }

    init(values weight: [Float], bias: [Float]?, inFeatures: Int, outFeatures: Int) {
        self.init(matrix: WeightMatrix(rows: outFeatures, columns: inFeatures, values: weight), bias: bias)
    }

    init(matrix: WeightMatrix, bias: [Float]?) {
        weight = matrix
        self.bias = bias
        inFeatures = matrix.columns
        outFeatures = matrix.rows
    }

    /// Up to this many input rows (decoding: one per beam), half weights go through the fused kernel.
    static let fusedHalfRows = 8

    /// Output rows widened per tile: about 1 MiB of float32 (tiles stay in L2).
    var tileRows: Int { max(8, min(outFeatures, (1 << 18) / max(1, inFeatures))) }

    /// out (rows, outFeatures) = x (rows, inFeatures) · Wᵀ + b (added to out when `accumulate`);
    /// without the bias when `addingBias` is false (a later fused pass adds it).
    func apply(_ x: UnsafePointer<Float>, rows: Int, into out: UnsafeMutablePointer<Float>, accumulate: Bool = false,
               addingBias: Bool = true) {
        let n = outFeatures, k = inFeatures
        let bias = addingBias ? self.bias : nil
        if case let .float32(values) = weight.storage {
            values.withUnsafeBufferPointer { w in
                if let bias {
                    bias.withUnsafeBufferPointer { b in
                        BLAS.linear(x, rows: rows, inFeatures: k, weight: w.baseAddress!, outFeatures: n,
                                    bias: b.baseAddress, into: out, accumulate: accumulate)
                    }
                } else {
                    BLAS.linear(x, rows: rows, inFeatures: k, weight: w.baseAddress!, outFeatures: n, into: out, accumulate: accumulate)
                }
            }
            return
        }
        // Half precision or int8 at rest: bias first (as BLAS.linear does), then one widened tile of W at a time.
        let beta = bias.map { b in b.withUnsafeBufferPointer { BLAS.seedOutput(out, rows: rows, columns: n, bias: $0.baseAddress, accumulate: accumulate) } }
            ?? BLAS.seedOutput(out, rows: rows, columns: n, bias: nil, accumulate: accumulate)
        if rows > Linear.fusedHalfRows, let matmul = weight.int8Matmul, case let .int8(_, scales) = weight.storage {
            // Int8 weights, many rows: oneDNN's integer matmul with the rows quantized per token (VNNI
            // where the CPU has it). It runs with OpenBLAS's thread count, so inside a loop that already
            // spreads over the cores (withSingleThreadedBLAS) it stays on the calling thread.
            let done = scales.withUnsafeBufferPointer { s in
                (try? matmul.apply(x, inputRows: rows, scales: s.baseAddress!, into: out, ldY: n, beta: beta,
                                   threads: Parallel.blasThreads,
                                   spread: { count, body in Parallel.forEachChunk(count, minimumPerWorker: 16, body) })) != nil
            }
            if done { return }
        }
        if rows <= Linear.fusedHalfRows {
            // Decoding: one fused pass over the 16-bit (or 8-bit) weights, split by output rows over the
            // cores (a widened tile fed to sgemm would stream every weight three times: read, write, read).
            Parallel.forEachChunk(n, minimumPerWorker: max(16, (1 << 16) / max(1, k))) { range in
                weight.rowProduct(x, inputRows: rows, rows: range, into: out, ldOut: n, beta: beta)
            }
            return
        }
        // Prompts: tiles of W are widened and multiplied independently, so our workers take whole tiles
        // (widening in parallel too), each with single-threaded sgemm: one pool at a time, and no
        // OpenBLAS wake-up per tile. At least two tiles per worker keep them balanced.
        let tile = max(8, min(tileRows, (n + 2 * Parallel.workers - 1) / (2 * Parallel.workers)))
        let tiles = (n + tile - 1) / tile
        let (xs, os) = (UncheckedPointer(UnsafeMutablePointer(mutating: x)), UncheckedPointer(out))
        Parallel.withSingleThreadedBLAS {
            Parallel.forEachChunk(tiles, minimumPerWorker: 1) { range in
                let scratch = UnsafeMutablePointer<Float>.allocate(capacity: tile * k)
                defer { scratch.deallocate() }
                for t in range {
                    let start = t * tile, count = min(tile, n - start)
                    weight.widen(rows: start..<(start + count), into: scratch)
                    BLAS.gemm(transA: false, transB: true, m: rows, n: count, k: k, a: xs.pointer, lda: k, b: scratch,
                              ldb: k, beta: beta, c: os.pointer + start, ldc: n)
                }
            }
        }
    }

    func callAsFunction(_ x: [Float], rows: Int, addingBias: Bool = true) -> [Float] {
        // Uninitialised: every element is written (beta = 0, or the bias is copied in first).
        [Float](unsafeUninitializedCapacity: rows * outFeatures) { out, initialized in
            if rows > 0, let o = out.baseAddress {
                x.withUnsafeBufferPointer { xp in apply(xp.baseAddress!, rows: rows, into: o, addingBias: addingBias) }
            }
            initialized = rows * outFeatures
        }
    }
}
