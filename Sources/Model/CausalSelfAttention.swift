import Tensor

/// Multi-head attention of new rows over a layer's KV cache, causal, with an
/// optional ALiBi bias slope_h · (j - i) (MosaicGPT/MPT; GPT-NeoX has none).
enum CausalSelfAttention {
    /// q: (S, d) for positions past ..< past + S, whose keys and values are
    /// already in `cache` at `layer`. Returns (S, d), scale 1/sqrt(head_dim).
    static func attend(q: [Float], rows s: Int, layer: Int, past: Int, cache: KVCache, heads: Int, slopes: [Float]?) -> [Float] {
        let d = q.count / max(s, 1), hd = d / heads, total = past + s
        var attended = [Float](repeating: 0, count: s * d)
        q.withUnsafeBufferPointer { qp in
            cache.keys[layer].withUnsafeBufferPointer { kp in
                cache.values[layer].withUnsafeBufferPointer { vp in
                    attended.withUnsafeMutableBufferPointer { op in
                        Attention.compute(
                            q: qp.baseAddress!, ldq: d, k: kp.baseAddress!, ldk: d, v: vp.baseAddress!, ldv: d,
                            queries: s, keys: total, heads: heads, headDim: hd, scale: 1 / Float(hd).squareRoot(),
                            out: op.baseAddress!, ldo: d,
                            adjust: { h, scores in
                                for i in 0..<s {
                                    let row = scores + i * total, position = past + i
                                    if let slope = slopes?[h] {
                                        for j in 0...position { row[j] += slope * Float(j - position) }
                                    }
                                    for j in (position + 1)..<max(position + 1, total) { row[j] = -.infinity }
                                }
                            })
                    }
                }
            }
        }
        return attended
    }
}
