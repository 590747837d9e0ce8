import Weights

/// One block of a decoder-only language model, run on new rows with the
/// layer's slice of the self-attention KV cache.
protocol DecoderBlock: Sendable {
    /// x: (S, d) for positions cache.length ..< cache.length + S; appends this
    /// layer's keys and values to the cache (the caller advances its length).
    func apply(_ x: inout [Float], rows s: Int, layer: Int, cache: inout KVCache)
    /// Weights streamed per decode step.
    var parameterCount: Int { get }
    /// The block's matrices (for reporting how weights are stored).
    var linearWeights: [WeightMatrix] { get }
}
