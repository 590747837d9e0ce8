import COpenBLAS

/// Matrix products through OpenBLAS, in PyTorch's `Linear` layout: weights
/// are (out_features, in_features) row-major and y = x · Wᵀ + b.
/// A single row (decode steps) goes through `cblas_sgemv`: OpenBLAS 0.3.21
/// does not forward M=1 sgemm to gemv and is 3-7x slower that way
/// (docs/LIMITS.md §BLAS).
public enum BLAS {
    /// out (M, N) = x (M, K) · w (N, K)ᵀ [+ bias (N)] [+ out if accumulate].
    @inlinable
    public static func linear(
        _ x: UnsafePointer<Float>, rows m: Int, inFeatures k: Int,
        weight w: UnsafePointer<Float>, outFeatures n: Int, bias: UnsafePointer<Float>? = nil,
        into out: UnsafeMutablePointer<Float>, accumulate: Bool = false
    ) {
        let beta = seedOutput(out, rows: m, columns: n, bias: bias, accumulate: accumulate)
        if m == 1 {
            cblas_sgemv(CblasRowMajor, CblasNoTrans, Int32(n), Int32(k), 1, w, Int32(k), x, 1, beta, out, 1)
        } else {
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(m), Int32(n), Int32(k),
                        1, x, Int32(k), w, Int32(k), beta, out, Int32(n))
        }
    }

    /// Puts the bias into out (M, N) (added when `accumulate`) before a product is added to it;
    /// returns the beta that product needs (1 when out already holds something, else 0).
    @inlinable
    public static func seedOutput(_ out: UnsafeMutablePointer<Float>, rows m: Int, columns n: Int,
                                  bias: UnsafePointer<Float>?, accumulate: Bool) -> Float {
        if let bias {
            let (os, bs) = (UncheckedPointer(out), UncheckedPointer(UnsafeMutablePointer(mutating: bias)))
            Parallel.forEachChunk(m, minimumPerWorker: max(1, (1 << 16) / max(1, n))) { rows in
                for r in rows {
                    let o = os.pointer + r * n
                    if accumulate {
                        for j in 0..<n { o[j] += bs.pointer[j] }
                    } else {
                        o.update(from: bs.pointer, count: n)
                    }
                }
            }
        }
        return (bias != nil || accumulate) ? 1 : 0
    }

    /// General strided product C (M, N) = alpha · op(A) · op(B) + beta · C, row-major,
    /// for attention over column slices of packed (tokens, heads · dim) buffers.
    @inlinable
    public static func gemm(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float = 1,
        a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        if m == 1 && !transA {
            // Row vector times matrix: y (N) = op(B)ᵀ-wise gemv.
            if transB {
                // y_j = sum_k a_k B[j, k]: B is (N, K) with stride ldb.
                cblas_sgemv(CblasRowMajor, CblasNoTrans, Int32(n), Int32(k), alpha, b, Int32(ldb), a, 1, beta, c, 1)
            } else {
                // y_j = sum_k a_k B[k, j]: B is (K, N) with stride ldb.
                cblas_sgemv(CblasRowMajor, CblasTrans, Int32(k), Int32(n), alpha, b, Int32(ldb), a, 1, beta, c, 1)
            }
            return
        }
        cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }
}
