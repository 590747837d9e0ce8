import Tensor
import Weights

/// OpenFlamingo PerceiverAttention (`perceiver.layers.{k}.0`): latents attend
/// to [media tokens; latents], no mask (ref: open_flamingo/src/helpers.py).
struct PerceiverAttention: Sendable {
    let normMedia: LayerNorm
    let normLatents: LayerNorm
    let toQ: Linear
    let toKV: Linear
    let toOut: Linear
    let heads: Int
    let dimHead: Int

    init(_ store: WeightStore, _ prefix: String, width d: Int, heads: Int, dimHead: Int) throws(WeightError) {
        let inner = heads * dimHead
        normMedia = try LayerNorm(store, "\(prefix).norm_media", width: d, bias: true, eps: 1e-5)
        normLatents = try LayerNorm(store, "\(prefix).norm_latents", width: d, bias: true, eps: 1e-5)
        toQ = try Linear(store, "\(prefix).to_q", in: d, out: inner, bias: false, packInt8: true)
        toKV = try Linear(store, "\(prefix).to_kv", in: d, out: 2 * inner, bias: false, packInt8: true)
        toOut = try Linear(store, "\(prefix).to_out", in: inner, out: d, bias: false, packInt8: true)
        self.heads = heads
        self.dimHead = dimHead
    }

    /// media: (m, D); latents: (n, D), updated in place: latents += to_out(attn).
    func apply(media: [Float], mediaRows m: Int, latents: inout [Float], latentRows n: Int) {
        let inner = heads * dimHead
        let xm = normMedia(media, rows: m)
        let lt = normLatents(latents, rows: n)
        let q = toQ(lt, rows: n)  // (n, inner)
        let kv = toKV(xm + lt, rows: m + n)  // (m + n, 2·inner): [k | v]
        var attended = [Float](repeating: 0, count: n * inner)
        q.withUnsafeBufferPointer { qp in
            kv.withUnsafeBufferPointer { kp in
                attended.withUnsafeMutableBufferPointer { op in
                    Attention.compute(q: qp.baseAddress!, ldq: inner, k: kp.baseAddress!, ldk: 2 * inner,
                                      v: kp.baseAddress! + inner, ldv: 2 * inner, queries: n, keys: m + n,
                                      heads: heads, headDim: dimHead, scale: 1 / Float(dimHead).squareRoot(),
                                      out: op.baseAddress!, ldo: inner)
                }
            }
        }
        latents.withUnsafeMutableBufferPointer { lp in
            attended.withUnsafeBufferPointer { toOut.apply($0.baseAddress!, rows: n, into: lp.baseAddress!, accumulate: true) }
        }
    }
}
