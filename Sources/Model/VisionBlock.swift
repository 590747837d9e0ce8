import Tensor
import Weights

/// open_clip ResidualAttentionBlock (pre-LN): x += out_proj(MHA(ln_1(x)));
/// x += c_proj(act(c_fc(ln_2(x)))). nn.MultiheadAttention packs q, k, v as
/// rows of `attn.in_proj_weight` (3·width, width).
/// Prefix `vision_encoder.transformer.resblocks.{i}`.
struct VisionBlock: Sendable {
    let ln1: LayerNorm
    let inProj: Linear
    let outProj: Linear
    let ln2: LayerNorm
    let fc: Linear
    let proj: Linear
    let heads: Int
    let quickGelu: Bool

    init(_ store: WeightStore, _ prefix: String, config c: FlamingoConfiguration.Vision) throws(WeightError) {
        let w = c.width
        ln1 = try LayerNorm(store, "\(prefix).ln_1", width: w, bias: true, eps: c.layerNormEps)
        inProj = try Linear(store, weightKey: "\(prefix).attn.in_proj_weight", biasKey: "\(prefix).attn.in_proj_bias",
                            in: w, out: 3 * w, packInt8: true)
        outProj = try Linear(store, "\(prefix).attn.out_proj", in: w, out: w, bias: true, packInt8: true)
        ln2 = try LayerNorm(store, "\(prefix).ln_2", width: w, bias: true, eps: c.layerNormEps)
        fc = try Linear(store, "\(prefix).mlp.c_fc", in: w, out: c.mlpWidth, bias: true, packInt8: true)
        proj = try Linear(store, "\(prefix).mlp.c_proj", in: c.mlpWidth, out: w, bias: true, packInt8: true)
        heads = c.heads
        quickGelu = c.activation == "quick_gelu"
    }

    /// x: (frames · tokens, width), each frame's tokens attending only to each other.
    func apply(_ x: inout [Float], frames: Int, tokens: Int) {
        let w = ln1.width, rows = frames * tokens, d = w / heads
        let qkv = inProj(ln1(x, rows: rows), rows: rows)  // (rows, 3w): [q | k | v]
        // Every head writes its columns of every row.
        var attended = [Float](unsafeUninitializedCapacity: rows * w) { _, n in n = rows * w }
        // Frames are independent: one frame per core, OpenBLAS single-threaded
        // for these small products.
        qkv.withUnsafeBufferPointer { p in
            attended.withUnsafeMutableBufferPointer { o in
                let (src, dst) = (UncheckedPointer(UnsafeMutablePointer(mutating: p.baseAddress!)), UncheckedPointer(o.baseAddress!))
                let heads = self.heads
                Parallel.withSingleThreadedBLAS {
                    Parallel.forEachChunk(frames, minimumPerWorker: 1) { range in
                        for f in range {
                            let base = src.pointer + f * tokens * 3 * w
                            Attention.compute(q: base, ldq: 3 * w, k: base + w, ldk: 3 * w, v: base + 2 * w, ldv: 3 * w,
                                              queries: tokens, keys: tokens, heads: heads, headDim: d,
                                              scale: 1 / Float(d).squareRoot(), out: dst.pointer + f * tokens * w, ldo: w)
                        }
                    }
                }
            }
        }
        x.withUnsafeMutableBufferPointer { xp in
            attended.withUnsafeBufferPointer { outProj.apply($0.baseAddress!, rows: rows, into: xp.baseAddress!, accumulate: true) }
        }
        // QuickGELU adds c_fc's bias in the same pass (one sweep over the (rows, mlp) activations less).
        var h = fc(ln2(x, rows: rows), rows: rows, addingBias: !quickGelu)
        h.withUnsafeMutableBufferPointer { hp in
            if quickGelu, let bias = fc.bias {
                bias.withUnsafeBufferPointer { b in
                    Ops.quickGelu(hp.baseAddress!, count: hp.count, bias: b.baseAddress, columns: fc.outFeatures)
                }
            } else if quickGelu {
                Ops.quickGelu(hp.baseAddress!, count: hp.count)
            } else {
                Ops.gelu(hp.baseAddress!, count: hp.count)
            }
        }
        x.withUnsafeMutableBufferPointer { xp in
            h.withUnsafeBufferPointer { proj.apply($0.baseAddress!, rows: rows, into: xp.baseAddress!, accumulate: true) }
        }
    }
}
