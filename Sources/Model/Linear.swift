import Tensor
import Weights

/// A PyTorch `nn.Linear`: weight (out, in) row-major, optional bias (out).
struct Linear: Sendable {
    let weight: [Float]
    let bias: [Float]?
    let inFeatures: Int
    let outFeatures: Int

    /// Loads `<prefix>.weight` (and `<prefix>.bias` when `bias`).
    init(_ store: WeightStore, _ prefix: String, in inFeatures: Int, out outFeatures: Int, bias: Bool) throws(WeightError) {
        weight = try store.take("\(prefix).weight", shape: [outFeatures, inFeatures])
        self.bias = bias ? try store.take("\(prefix).bias", shape: [outFeatures]) : nil
        self.inFeatures = inFeatures
        self.outFeatures = outFeatures
    }

    /// out (rows, outFeatures) = x (rows, inFeatures) · Wᵀ + b (added to out when `accumulate`).
    func apply(_ x: UnsafePointer<Float>, rows: Int, into out: UnsafeMutablePointer<Float>, accumulate: Bool = false) {
        weight.withUnsafeBufferPointer { w in
            if let bias {
                bias.withUnsafeBufferPointer { b in
                    BLAS.linear(x, rows: rows, inFeatures: inFeatures, weight: w.baseAddress!, outFeatures: outFeatures,
                                bias: b.baseAddress, into: out, accumulate: accumulate)
                }
            } else {
                BLAS.linear(x, rows: rows, inFeatures: inFeatures, weight: w.baseAddress!, outFeatures: outFeatures,
                            into: out, accumulate: accumulate)
            }
        }
    }

    func callAsFunction(_ x: [Float], rows: Int) -> [Float] {
        // Uninitialised: BLAS overwrites every element (beta = 0, or the bias is copied in first).
        [Float](unsafeUninitializedCapacity: rows * outFeatures) { out, initialized in
            if rows > 0, let o = out.baseAddress {
                x.withUnsafeBufferPointer { xp in apply(xp.baseAddress!, rows: rows, into: o) }
            }
            initialized = rows * outFeatures
        }
    }
}
