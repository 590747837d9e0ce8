import Foundation
import Tensor
import Weights

/// One GPT-NeoX layer (RedPajama-INCITE, OpenFlamingo-4B;
/// `lang_encoder.gpt_neox.layers.{i}.decoder_layer`), as Hugging Face
/// transformers 4.33 `GPTNeoXLayer`:
///   sequential:  h = x + dense(attn(input_layernorm(x)));  x = h + mlp(post_attention_layernorm(h))
///   parallel:    x = x + dense(attn(input_layernorm(x))) + mlp(post_attention_layernorm(x))
/// query_key_value (3d, d) is laid out per head as [q; k; v] (heads, 3, head_dim);
/// rotary embeddings (rotate_half form, base `rotary_emb_base`) on the first
/// rotary_pct · head_dim dims of q and k at absolute positions; scale
/// 1/sqrt(head_dim); causal; LayerNorms and linears with biases; exact GELU
/// (docs/MODEL.md §Language models).
struct GPTNeoXBlock: DecoderBlock {
    let inputNorm: LayerNorm
    let postAttentionNorm: LayerNorm
    let qkv: Linear
    let dense: Linear
    let up: Linear
    let down: Linear
    let heads: Int
    let rotaryDims: Int
    /// (rotaryDims / 2) inverse frequencies.
    let inverseFrequencies: [Float]
    let parallelResidual: Bool

    init(_ store: WeightStore, _ prefix: String, config c: FlamingoConfiguration.LanguageModel, keepHalf: Bool = false) throws(WeightError) {
        let d = c.dModel, eps = c.layerNormEps
        let names = LanguageModelArchitecture.gptNeoX.names
        inputNorm = try LayerNorm(store, "\(prefix).\(names.norm1)", width: d, bias: true, eps: eps)
        postAttentionNorm = try LayerNorm(store, "\(prefix).\(names.norm2)", width: d, bias: true, eps: eps)
        qkv = try Linear(store, "\(prefix).attention.query_key_value", in: d, out: 3 * d, bias: true, keepHalf: keepHalf)
        dense = try Linear(store, "\(prefix).attention.dense", in: d, out: d, bias: true, keepHalf: keepHalf)
        up = try Linear(store, "\(prefix).\(names.up)", in: d, out: c.expansionRatio * d, bias: true, keepHalf: keepHalf)
        down = try Linear(store, "\(prefix).\(names.down)", in: c.expansionRatio * d, out: d, bias: true, keepHalf: keepHalf)
        heads = c.nHeads
        let hd = c.headDim
        let dims = Int(Double(hd) * (c.rotaryPct ?? 1.0))
        let base = c.rotaryEmbBase ?? 10000
        rotaryDims = dims
        // As torch: 1 / base^(arange(0, dims, 2).float() / dims), in float32.
        inverseFrequencies = stride(from: 0, to: dims, by: 2).map { 1 / Float(pow(base, Double(Float($0) / Float(dims)))) }
        parallelResidual = c.useParallelResidual ?? true
    }

    var linearWeights: [WeightMatrix] { [qkv, dense, up, down].map(\.weight) }

    var parameterCount: Int {
        let linears = [qkv, dense, up, down].reduce(0) { $0 + $1.weight.count + ($1.bias?.count ?? 0) }
        return linears + 2 * (inputNorm.width + postAttentionNorm.width)
    }

    func apply(_ x: inout [Float], rows s: Int, layer: Int, cache: inout KVCache) {
        let d = inputNorm.width, hd = d / heads, past = cache.length
        precondition(past + s <= cache.capacity, "sequence longer than the cache")
        let fused = qkv(inputNorm(x, rows: s), rows: s)  // (S, heads, 3, hd)
        var q = [Float](repeating: 0, count: s * d)
        var k = [Float](repeating: 0, count: s * d)
        var v = [Float](repeating: 0, count: s * d)
        let half = rotaryDims / 2
        for r in 0..<s {
            let position = Float(past + r)
            for h in 0..<heads {
                let src = r * 3 * d + h * 3 * hd, dst = r * d + h * hd
                for j in 0..<hd {
                    q[dst + j] = fused[src + j]
                    k[dst + j] = fused[src + hd + j]
                    v[dst + j] = fused[src + 2 * hd + j]
                }
                // rotate_half: (x1, x2) -> (x1·cos - x2·sin, x2·cos + x1·sin), angle = position · inv_freq[j].
                for j in 0..<half {
                    let angle = position * inverseFrequencies[j]
                    let c = cos(angle), sn = sin(angle)
                    let q1 = q[dst + j], q2 = q[dst + j + half], k1 = k[dst + j], k2 = k[dst + j + half]
                    q[dst + j] = q1 * c - q2 * sn
                    q[dst + j + half] = q2 * c + q1 * sn
                    k[dst + j] = k1 * c - k2 * sn
                    k[dst + j + half] = k2 * c + k1 * sn
                }
            }
        }
        cache.keys[layer].replaceSubrange((past * d)..<((past + s) * d), with: k)
        cache.values[layer].replaceSubrange((past * d)..<((past + s) * d), with: v)
        let attended = CausalSelfAttention.attend(q: q, rows: s, layer: layer, past: past, cache: cache, heads: heads, slopes: nil)
        // The MLP reads x before the attention update (parallel) or after it (sequential).
        let mlpInput = parallelResidual ? x : nil
        x.withUnsafeMutableBufferPointer { xp in
            attended.withUnsafeBufferPointer { dense.apply($0.baseAddress!, rows: s, into: xp.baseAddress!, accumulate: true) }
        }
        var h = up(postAttentionNorm(mlpInput ?? x, rows: s), rows: s)
        h.withUnsafeMutableBufferPointer { Ops.gelu($0.baseAddress!, count: $0.count) }
        x.withUnsafeMutableBufferPointer { xp in
            h.withUnsafeBufferPointer { down.apply($0.baseAddress!, rows: s, into: xp.baseAddress!, accumulate: true) }
        }
    }
}
