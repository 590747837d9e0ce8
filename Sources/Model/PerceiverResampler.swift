import Tensor
import Weights

/// OpenFlamingo PerceiverResampler (`perceiver.*`): maps one media item's
/// (frames, tokens, D) vision features to (num_latents, D) visual tokens.
/// Learned temporal embeddings `frame_embs` are added per frame before frames
/// and tokens are flattened into one spatio-temporal sequence
/// (ref: open_flamingo/src/helpers.py `PerceiverResampler.forward`).
public struct PerceiverResampler: Sendable {
    let config: FlamingoConfiguration.Resampler
    public let width: Int
    /// (num_latents, D)
    let latents: [Float]
    /// (max_num_frames, D), when configured.
    let frameEmbeddings: [Float]?
    /// (max_num_media, 1, D), when configured.
    let mediaTimeEmbeddings: [Float]?
    let layers: [(attention: PerceiverAttention, feedForward: FeedForward)]
    let norm: LayerNorm

    init(_ store: WeightStore, config c: FlamingoConfiguration.Resampler, width d: Int) throws(WeightError) {
        config = c
        width = d
        latents = try store.take("perceiver.latents", shape: [c.numLatents, d])
        frameEmbeddings = try c.maxNumFrames.map { n throws(WeightError) in try store.take("perceiver.frame_embs", shape: [n, d]) }
        mediaTimeEmbeddings = try c.maxNumMedia.map { n throws(WeightError) in try store.take("perceiver.media_time_embs", shape: [n, 1, d]) }
        var layers: [(PerceiverAttention, FeedForward)] = []
        for k in 0..<c.depth {
            layers.append((try PerceiverAttention(store, "perceiver.layers.\(k).0", width: d, heads: c.heads, dimHead: c.dimHead),
                           try FeedForward(store, "perceiver.layers.\(k).1", width: d, mult: c.ffMult, packInt8: true)))
        }
        self.layers = layers
        norm = try LayerNorm(store, "perceiver.norm", width: d, bias: true, eps: 1e-5)
    }

    /// Most frames one media item may have (frame_embs rows), nil when unbounded.
    public var maxFrames: Int? { config.maxNumFrames }

    /// features: (frames, tokens, D) of one media item at position `mediaIndex`
    /// in its sample. Returns (num_latents, D).
    public func resample(features: [Float], frames: Int, tokens: Int, mediaIndex: Int = 0, zeroTemporalEmbeddings: Bool = false) throws(ModelError) -> [Float] {
        let d = width
        guard features.count == frames * tokens * d else {
            throw .invalidInput("resampler input has \(features.count) values, expected \(frames)x\(tokens)x\(d)")
        }
        var x = features
        if let frameEmbeddings, !zeroTemporalEmbeddings {
            guard let maxFrames = config.maxNumFrames, frames <= maxFrames else {
                throw .invalidInput("a media item has \(frames) frames but the resampler's frame_embs cover \(config.maxNumFrames ?? 0)")
            }
            for f in 0..<frames {
                for t in 0..<tokens {
                    let row = (f * tokens + t) * d
                    for j in 0..<d { x[row + j] += frameEmbeddings[f * d + j] }
                }
            }
        }
        if let mediaTimeEmbeddings {
            guard let maxMedia = config.maxNumMedia, mediaIndex < maxMedia else {
                throw .invalidInput("media item \(mediaIndex) exceeds the resampler's media_time_embs (\(config.maxNumMedia ?? 0))")
            }
            for r in 0..<(frames * tokens) {
                for j in 0..<d { x[r * d + j] += mediaTimeEmbeddings[mediaIndex * d + j] }
            }
        }
        let n = config.numLatents
        var lat = latents
        for layer in layers {
            layer.attention.apply(media: x, mediaRows: frames * tokens, latents: &lat, latentRows: n)
            let ff = layer.feedForward(lat, rows: n)
            for i in 0..<lat.count { lat[i] += ff[i] }
        }
        return norm(lat, rows: n)
    }
}
