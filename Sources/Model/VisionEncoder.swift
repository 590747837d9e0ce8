import Tensor
import Weights

/// open_clip VisionTransformer as OpenFlamingo uses it (`vision_encoder.*`):
/// conv patch embedding without bias, class token, positional embedding,
/// ln_pre, pre-LN blocks; returns the patch tokens without the class token
/// and without ln_post (open_clip 2.16-2.22 `forward` with output_tokens;
/// ref: open_clip/transformer.py `VisionTransformer.forward`).
public struct VisionEncoder: Sendable {
    let config: FlamingoConfiguration.Vision
    /// conv1 as a linear map over flattened (channel, ky, kx) patches: (width, 3·p·p).
    let patchEmbedding: [Float]
    let classEmbedding: [Float]
    /// (patches + 1, width)
    let positionalEmbedding: [Float]
    let lnPre: LayerNorm
    let blocks: [VisionBlock]
    let lnPost: LayerNorm

    init(_ store: WeightStore, config c: FlamingoConfiguration.Vision) throws(WeightError) {
        config = c
        let p = "vision_encoder"
        patchEmbedding = try store.take("\(p).conv1.weight", shape: [c.width, 3, c.patchSize, c.patchSize])
        classEmbedding = try store.take("\(p).class_embedding", shape: [c.width])
        positionalEmbedding = try store.take("\(p).positional_embedding", shape: [c.patches + 1, c.width])
        lnPre = try LayerNorm(store, "\(p).ln_pre", width: c.width, bias: true, eps: c.layerNormEps)
        var blocks: [VisionBlock] = []
        for i in 0..<c.layers {
            blocks.append(try VisionBlock(store, "\(p).transformer.resblocks.\(i)", config: c))
        }
        self.blocks = blocks
        lnPost = try LayerNorm(store, "\(p).ln_post", width: c.width, bias: true, eps: c.layerNormEps)
        if let projShape = store.shape(of: "\(p).proj") {
            // The CLIP projection is not applied to tokens; accept it with any output size.
            try store.tolerate("\(p).proj", shape: [c.width, projShape.last ?? 0])
        }
    }

    /// pixels: (frames, 3, R, R) normalised. Returns (frames, patches, width).
    public func encode(pixels: [Float], frames: Int) -> [Float] {
        let c = config, r = c.imageSize, ps = c.patchSize, g = c.grid, w = c.width
        let tokens = c.patches + 1, patchLength = 3 * ps * ps
        precondition(pixels.count == frames * 3 * r * r, "pixels must be (frames, 3, \(r), \(r))")
        // Patches (frames · patches, 3·p·p) in conv weight order (c, ky, kx), row-major grid.
        var patches = [Float](repeating: 0, count: frames * c.patches * patchLength)
        for f in 0..<frames {
            for gy in 0..<g {
                for gx in 0..<g {
                    let row = (f * c.patches + gy * g + gx) * patchLength
                    for ch in 0..<3 {
                        for ky in 0..<ps {
                            let src = ((f * 3 + ch) * r + gy * ps + ky) * r + gx * ps
                            let dst = row + (ch * ps + ky) * ps
                            for kx in 0..<ps { patches[dst + kx] = pixels[src + kx] }
                        }
                    }
                }
            }
        }
        let embedded = Linear(values: patchEmbedding, bias: nil, inFeatures: patchLength, outFeatures: w)(patches, rows: frames * c.patches)
        // x (frames · tokens, width): [class; patches] + positional embedding.
        var x = [Float](repeating: 0, count: frames * tokens * w)
        for f in 0..<frames {
            for t in 0..<tokens {
                let dst = (f * tokens + t) * w
                for j in 0..<w {
                    let value = t == 0 ? classEmbedding[j] : embedded[(f * c.patches + t - 1) * w + j]
                    x[dst + j] = value + positionalEmbedding[t * w + j]
                }
            }
        }
        x.withUnsafeMutableBufferPointer { lnPre.apply($0.baseAddress!, rows: frames * tokens) }
        for block in blocks { block.apply(&x, frames: frames, tokens: tokens) }
        // Drop the class token.
        var out = [Float](repeating: 0, count: frames * c.patches * w)
        for f in 0..<frames {
            let src = (f * tokens + 1) * w
            out.replaceSubrange((f * c.patches * w)..<((f + 1) * c.patches * w), with: x[src..<(src + c.patches * w)])
        }
        if c.tokensAfterLnPost {
            out.withUnsafeMutableBufferPointer { lnPost.apply($0.baseAddress!, rows: frames * c.patches) }
        }
        return out
    }
}
