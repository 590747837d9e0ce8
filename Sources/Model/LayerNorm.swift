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
        apply(x, rows: rows, into: x)
    }

    /// Normalises each row of x (rows, width) into out (rows, width), which may be x.
    func apply(_ x: UnsafePointer<Float>, rows: Int, into out: UnsafeMutablePointer<Float>) {
        weight.withUnsafeBufferPointer { w in
            if let bias {
                bias.withUnsafeBufferPointer { b in
                    Ops.layerNorm(x, into: out, rows: rows, columns: width, weight: w.baseAddress!, bias: b.baseAddress, eps: eps)
                }
            } else {
                Ops.layerNorm(x, into: out, rows: rows, columns: width, weight: w.baseAddress!, bias: nil, eps: eps)
            }
        }
    }

    func callAsFunction(_ x: [Float], rows: Int) -> [Float] {
        precondition(x.count == rows * width, "LayerNorm input must be (rows, \(width))")
        // Uninitialised: every element is written.
        return [Float](unsafeUninitializedCapacity: x.count) { out, initialized in
            if let o = out.baseAddress { x.withUnsafeBufferPointer { apply($0.baseAddress!, rows: rows, into: o) } }
            initialized = x.count
        }
    }
}
