import Tensor
import Weights

/// OpenFlamingo's FeedForward: Sequential(LayerNorm(D), Linear(D, mult·D, no bias),
/// GELU (exact), Linear(mult·D, D, no bias)); keys `<prefix>.0`, `.1`, `.3`
/// (ref: open_flamingo/src/helpers.py `FeedForward`).
struct FeedForward: Sendable {
    let norm: LayerNorm
    let up: Linear
    let down: Linear

    /// `packInt8`: the resampler's (never used for one row at a time; docs/QUANTIZATION.md).
    init(_ store: WeightStore, _ prefix: String, width: Int, mult: Int, packInt8: Bool = false) throws(WeightError) {
        norm = try LayerNorm(store, "\(prefix).0", width: width, bias: true, eps: 1e-5)
        up = try Linear(store, "\(prefix).1", in: width, out: width * mult, bias: false, packInt8: packInt8)
        down = try Linear(store, "\(prefix).3", in: width * mult, out: width, bias: false, packInt8: packInt8)
    }

    /// ff(x) for x (rows, D).
    func callAsFunction(_ x: [Float], rows: Int) -> [Float] {
        var h = up(norm(x, rows: rows), rows: rows)
        h.withUnsafeMutableBufferPointer { Ops.gelu($0.baseAddress!, count: $0.count) }
        return down(h, rows: rows)
    }
}
