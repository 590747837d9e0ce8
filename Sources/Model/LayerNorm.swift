import Tensor
import Weights

/// A LayerNorm over the last dimension: weight, optional bias (MosaicGPT with
/// `no_bias` has none), eps.
struct LayerNorm: Sendable {
    let weight: [Float]
    let bias: [Float]?
    let eps: Float

    init(_ store: WeightStore, _ prefix: String, width: Int, bias: Bool, eps: Float) throws(WeightError) {
        weight = try store.take("\(prefix).weight", shape: [width])
        self.bias = bias ? try store.take("\(prefix).bias", shape: [width]) : nil
        self.eps = eps
    }

    var width: Int { weight.count }

    /// Normalises each row of x (rows, width) in place.
    func apply(_ x: UnsafeMutablePointer<Float>, rows: Int) {
        weight.withUnsafeBufferPointer { w in
            if let bias {
                bias.withUnsafeBufferPointer { b in
                    Ops.layerNorm(x, rows: rows, columns: width, weight: w.baseAddress!, bias: b.baseAddress, eps: eps)
                }
            } else {
                Ops.layerNorm(x, rows: rows, columns: width, weight: w.baseAddress!, bias: nil, eps: eps)
            }
        }
    }

    func callAsFunction(_ x: [Float], rows: Int) -> [Float] {
        var out = x
        out.withUnsafeMutableBufferPointer { apply($0.baseAddress!, rows: rows) }
        return out
    }
}
