import Foundation
import Tensor
import Weights

/// One MosaicGPT block (MPT-1B; `lang_encoder.transformer.blocks.{i}.decoder_layer`):
///   x += out_proj(attn(ln_1(x)));  x += mlp_down(GELU(mlp_up(ln_2(x))))
/// Attention: fused Wqkv (3d, d) rows [q; k; v], optional QK-LayerNorm over the
/// full width before the head split, scale 1/sqrt(head_dim), causal mask and
/// ALiBi bias slope_h · (j - i) with slope_h = 2^(-h · alibi_bias_max / n_heads)
/// (ref: mosaic_gpt.py `build_alibi_bias`, `MultiheadAttention`; docs/MODEL.md §Language models).
/// With architecture "mpt" (MPT-7B, llm-foundry / transformers `MptBlock` names:
/// norm_1, norm_2, ffn.up_proj, ffn.down_proj; no QK-LayerNorm) the slopes follow
/// `build_mpt_alibi_tensor`, which interleaves them when n_heads is not a power of 2.
struct MosaicGPTBlock: DecoderBlock {
    let ln1: LayerNorm
    let wqkv: Linear
    let qLn: LayerNorm?
    let kLn: LayerNorm?
    let outProj: Linear
    let ln2: LayerNorm
    let up: Linear
    let down: Linear
    let heads: Int
    let slopes: [Float]

    init(_ store: WeightStore, _ prefix: String, config c: FlamingoConfiguration.LanguageModel, keepHalf: Bool = false) throws(WeightError) {
        let d = c.dModel, bias = !c.noBias, eps = c.layerNormEps
        let mpt = c.family == .mpt, names = c.family.names
        ln1 = try LayerNorm(store, "\(prefix).\(names.norm1)", width: d, bias: bias, eps: eps)
        wqkv = try Linear(store, "\(prefix).attn.Wqkv", in: d, out: 3 * d, bias: bias, keepHalf: keepHalf)
        qLn = c.attnQkLn ? try LayerNorm(store, "\(prefix).attn.q_ln", width: d, bias: bias, eps: eps) : nil
        kLn = c.attnQkLn ? try LayerNorm(store, "\(prefix).attn.k_ln", width: d, bias: bias, eps: eps) : nil
        outProj = try Linear(store, "\(prefix).attn.out_proj", in: d, out: d, bias: bias, keepHalf: keepHalf)
        ln2 = try LayerNorm(store, "\(prefix).\(names.norm2)", width: d, bias: bias, eps: eps)
        up = try Linear(store, "\(prefix).\(names.up)", in: d, out: c.expansionRatio * d, bias: bias, keepHalf: keepHalf)
        down = try Linear(store, "\(prefix).\(names.down)", in: c.expansionRatio * d, out: d, bias: bias, keepHalf: keepHalf)
        heads = c.nHeads
        if !c.alibi {
            slopes = [Float](repeating: 0, count: c.nHeads)
        } else if mpt {
            let n = c.nHeads, p2 = 1 << Int(ceil(log2(Double(n))))
            let all = (1...p2).map { h in Float(1 / pow(2, Double(h) * c.alibiBiasMax / Double(p2))) }
            slopes = p2 == n ? all : Array((stride(from: 1, to: p2, by: 2).map { all[$0] } + stride(from: 0, to: p2, by: 2).map { all[$0] }).prefix(n))
        } else {
            slopes = (1...c.nHeads).map { h in Float(1 / pow(2, Double(h) * c.alibiBiasMax / Double(c.nHeads))) }
        }
    }

    var linearWeights: [WeightMatrix] { [wqkv, outProj, up, down].map(\.weight) }

    var parameterCount: Int {
        let linears = [wqkv, outProj, up, down].reduce(0) { $0 + $1.weight.count }
        return linears + ln1.width + ln2.width + (qLn?.width ?? 0) + (kLn?.width ?? 0)
    }

    /// x: (S, d) for positions cache.length ..< cache.length + S; appends this
    /// layer's keys and values to the cache (the caller advances its length).
    func apply(_ x: inout [Float], rows s: Int, layer: Int, cache: inout KVCache) {
        let d = ln1.width, hd = d / heads, past = cache.length
        precondition(past + s <= cache.capacity, "sequence longer than the cache")
        let qkv = wqkv(ln1(x, rows: s), rows: s)  // (S, 3d)
        var q = [Float](repeating: 0, count: s * d)
        var k = [Float](repeating: 0, count: s * d)
        for r in 0..<s {
            q.replaceSubrange((r * d)..<((r + 1) * d), with: qkv[(r * 3 * d)..<(r * 3 * d + d)])
            k.replaceSubrange((r * d)..<((r + 1) * d), with: qkv[(r * 3 * d + d)..<(r * 3 * d + 2 * d)])
        }
        if let qLn, let kLn {
            q.withUnsafeMutableBufferPointer { qLn.apply($0.baseAddress!, rows: s) }
            k.withUnsafeMutableBufferPointer { kLn.apply($0.baseAddress!, rows: s) }
        }
        for r in 0..<s {
            cache.keys[layer].replaceSubrange(((past + r) * d)..<((past + r + 1) * d), with: k[(r * d)..<((r + 1) * d)])
            cache.values[layer].replaceSubrange(((past + r) * d)..<((past + r + 1) * d), with: qkv[(r * 3 * d + 2 * d)..<(r * 3 * d + 3 * d)])
        }
        let attended = CausalSelfAttention.attend(q: q, rows: s, layer: layer, past: past, cache: cache, heads: heads, slopes: slopes)
        x.withUnsafeMutableBufferPointer { xp in
            attended.withUnsafeBufferPointer { outProj.apply($0.baseAddress!, rows: s, into: xp.baseAddress!, accumulate: true) }
        }
        var h = up(ln2(x, rows: s), rows: s)
        h.withUnsafeMutableBufferPointer { Ops.gelu($0.baseAddress!, count: $0.count) }
        x.withUnsafeMutableBufferPointer { xp in
            h.withUnsafeBufferPointer { down.apply($0.baseAddress!, rows: s, into: xp.baseAddress!, accumulate: true) }
        }
    }
}
