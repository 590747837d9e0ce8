import Foundation
import Tensor
import Weights

/// OpenFlamingo GatedCrossAttentionBlock
/// (`lang_encoder.transformer.blocks.{i}.gated_cross_attn_layer`):
///   x = tanh(attn_gate) · MaskedCrossAttention(x, media) + x
///   x = tanh(ff_gate) · FeedForward(x) + x
/// Each text token attends only to the latents of the media item whose
/// `<image>` came last before it (or at it); tokens before the first
/// `<image>` get exactly zero attention output, but the feed-forward branch
/// still applies to them (ref: open_flamingo/src/helpers.py
/// `MaskedCrossAttention.forward`, docs/MODEL.md §Gated cross-attention).
struct GatedCrossAttentionBlock: Sendable {
    let norm: LayerNorm
    let toQ: Linear
    let toKV: Linear
    let toOut: Linear
    let attnGate: Float
    let feedForward: FeedForward
    let ffGate: Float
    let heads: Int
    let dimHead: Int
    let onlyImmediate: Bool

    init(_ store: WeightStore, _ prefix: String, width d: Int, visionWidth dv: Int,
         config c: FlamingoConfiguration.CrossAttention) throws(WeightError) {
        let inner = c.heads * c.dimHead
        norm = try LayerNorm(store, "\(prefix).attn.norm", width: d, bias: true, eps: 1e-5)
        toQ = try Linear(store, "\(prefix).attn.to_q", in: d, out: inner, bias: false)
        toKV = try Linear(store, "\(prefix).attn.to_kv", in: dv, out: 2 * inner, bias: false)
        toOut = try Linear(store, "\(prefix).attn.to_out", in: inner, out: d, bias: false)
        attnGate = try store.take("\(prefix).attn_gate", shape: [1])[0]
        feedForward = try FeedForward(store, "\(prefix).ff", width: d, mult: c.ffMult)
        ffGate = try store.take("\(prefix).ff_gate", shape: [1])[0]
        heads = c.heads
        dimHead = c.dimHead
        onlyImmediate = c.onlyAttendImmediateMedia
    }

    /// Keys and values of every media item's latents, computed once per prompt
    /// and reused for every generated token: (media · latents, 2 · inner) as [k | v].
    func memory(media: [[Float]], latents n: Int) -> [Float] {
        guard !media.isEmpty else { return [] }
        return toKV(media.flatMap { $0 }, rows: media.count * n)
    }

    /// x: (S, d), updated in place. `mediaTime[s]` is the number of `<image>`
    /// tokens at or before token s (OpenFlamingo's `text_time`). `memory` is
    /// `memory(media:latents:)` for `mediaCount` items of `latents` rows each.
    func apply(_ x: inout [Float], rows s: Int, mediaTime: [Int], memory: [Float], mediaCount: Int, latents n: Int) {
        let d = norm.width, inner = heads * dimHead
        if mediaCount > 0 {
            let q = toQ(norm(x, rows: s), rows: s)
            var attended = [Float](repeating: 0, count: s * inner)
            q.withUnsafeBufferPointer { qp in
                memory.withUnsafeBufferPointer { mp in
                    attended.withUnsafeMutableBufferPointer { op in
                        // Tokens with the same media time are contiguous (it is a cumulative count).
                        var start = 0
                        while start < s {
                            let t = mediaTime[start]
                            var end = start + 1
                            while end < s && mediaTime[end] == t { end += 1 }
                            if t > 0 {
                                // Keys: the t-th media item only; or media 1...t when not only-immediate.
                                // t beyond the media supplied: every key is masked, which PyTorch's
                                // masked_fill(-max) + softmax turns into a uniform average over all keys.
                                let (first, count): (Int, Int) = t > mediaCount ? (0, mediaCount)
                                    : onlyImmediate ? (t - 1, 1) : (0, t)
                                let k = mp.baseAddress! + first * n * 2 * inner
                                Attention.compute(q: qp.baseAddress! + start * inner, ldq: inner, k: k, ldk: 2 * inner,
                                                  v: k + inner, ldv: 2 * inner, queries: end - start, keys: count * n,
                                                  heads: heads, headDim: dimHead, scale: 1 / Float(dimHead).squareRoot(),
                                                  out: op.baseAddress! + start * inner, ldo: inner,
                                                  adjust: t > mediaCount ? { _, scores in
                                                      for i in 0..<((end - start) * count * n) { scores[i] = 0 }
                                                  } : nil)
                            }
                            start = end
                        }
                    }
                }
            }
            let out = toOut(attended, rows: s)
            let gate = tanhf(attnGate)
            for i in 0..<(s * d) { x[i] += gate * out[i] }
        }
        let ff = feedForward(x, rows: s)
        let gate = tanhf(ffGate)
        for i in 0..<(s * d) { x[i] += gate * ff[i] }
    }
}
