import Model
import Weights

/// The int8 limit of `flamingo bench engine`: the vision encoder's linear layers (in_proj, out_proj,
/// c_fc, c_proj per block) as bare oneDNN int8 matmuls on already-quantized inputs, no rescaling,
/// the weights packed as the engine packs them. What int8 encoding would take if nothing else cost.
final class EncoderInt8Limit {
    let rows: Int
    let layers: Int
    let products: [(matmul: Int8Matmul, k: Int, n: Int)]
    let input: [Int8]
    var output: [Int32]
    /// Integer operations (2 per multiply-add) of one encoding's linear layers.
    let operations: Double
    /// The share of the encoder's float32 products (encoderMatmulsAlone) that are attention, not linear layers.
    let attentionShare: Double
    private let weights: [[Int8]]

    init(_ c: FlamingoConfiguration.Vision, frames: Int) throws {
        let t = c.patches + 1, w = c.width, m = c.mlpWidth
        rows = frames * t
        layers = c.layers
        let shapes = [(w, 3 * w), (w, w), (w, m), (m, w)]
        weights = shapes.map { k, n in (0..<(k * n)).map { Int8(truncatingIfNeeded: $0 &* 37) } }
        products = try zip(weights, shapes).map { weight, shape in
            let matmul = try weight.withUnsafeBufferPointer { p in
                try Int8Matmul.make(weights: p.baseAddress!, rows: shape.1, columns: shape.0, pack: true, owner: nil).get()
            }
            return (matmul, shape.0, shape.1)
        }
        input = (0..<(rows * max(w, m))).map { Int8(truncatingIfNeeded: $0 &* 11) }
        output = [Int32](repeating: 0, count: rows * max(3 * w, m))
        let linear = Double(rows) * Double(shapes.map { $0.0 * $0.1 }.reduce(0, +))
        operations = 2 * linear * Double(c.layers)
        let attention = 2 * Double(frames * t * t * w)  // q·kᵀ and scores·v per block, all heads
        attentionShare = attention / (attention + linear)
    }

    func run() throws {
        try input.withUnsafeBufferPointer { x in
            try output.withUnsafeMutableBufferPointer { o in
                for _ in 0..<layers {
                    for product in products {
                        try product.matmul.integerProduct(x.baseAddress!, inputRows: rows, into: o.baseAddress!)
                    }
                }
            }
        }
    }
}
