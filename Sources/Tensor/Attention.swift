import CKernels

/// Scaled dot-product attention over packed (tokens, heads · headDim)
/// buffers, one sgemm pair per head (no copies: heads are column slices
/// addressed through the leading dimensions).
public enum Attention {
    /// For each head h: out_h (Sq, d) = softmax(scale · q_h · k_hᵀ + adjust) · v_h.
    /// `adjust(h, scores)` may add biases or -inf masks to the (Sq, Sk) scores of head h.
    /// A row whose keys are all -inf becomes a uniform average (PyTorch's masked_fill(-max) behaviour).
    public static func compute(
        q: UnsafePointer<Float>, ldq: Int, k: UnsafePointer<Float>, ldk: Int, v: UnsafePointer<Float>, ldv: Int,
        queries sq: Int, keys sk: Int, heads: Int, headDim d: Int, scale: Float,
        out: UnsafeMutablePointer<Float>, ldo: Int,
        adjust: ((Int, UnsafeMutablePointer<Float>) -> Void)? = nil
    ) {
        guard sq > 0, sk > 0 else { return }
        let scores = UnsafeMutablePointer<Float>.allocate(capacity: sq * sk)
        defer { scores.deallocate() }
        if sq == 1 && sk * d <= 1 << 16 {
            // One query over a short cache (decode steps): vector loops beat the BLAS calls' fixed cost here.
            for h in 0..<heads {
                let off = h * d
                flamingo_dot_rows(q + off, k + off, ldk, sk, d, scale, scores)
                adjust?(h, scores)
                Ops.softmaxRows(scores, rows: 1, columns: sk)
                flamingo_weighted_rows_sum(scores, v + off, ldv, sk, d, out + off)
            }
            return
        }
        for h in 0..<heads {
            let off = h * d
            // scores (Sq, Sk) = scale · q_h (Sq, d) · k_h (Sk, d)ᵀ
            BLAS.gemm(transA: false, transB: true, m: sq, n: sk, k: d, alpha: scale,
                      a: q + off, lda: ldq, b: k + off, ldb: ldk, c: scores, ldc: sk)
            adjust?(h, scores)
            Ops.softmaxRows(scores, rows: sq, columns: sk)
            // out_h (Sq, d) = scores (Sq, Sk) · v_h (Sk, d)
            BLAS.gemm(transA: false, transB: false, m: sq, n: d, k: sk,
                      a: scores, lda: sk, b: v + off, ldb: ldv, c: out + off, ldc: ldo)
        }
    }
}
