/// Reference kernels for tests: obviously correct, slow.
public enum Naive {
    /// out (M, N) = x (M, K) · w (N, K)ᵀ + bias.
    public static func linear(_ x: [Float], rows m: Int, inFeatures k: Int, weight w: [Float], outFeatures n: Int, bias: [Float]? = nil) -> [Float] {
        var out = [Float](repeating: 0, count: m * n)
        for i in 0..<m {
            for j in 0..<n {
                var s: Double = 0
                for t in 0..<k { s += Double(x[i * k + t]) * Double(w[j * k + t]) }
                out[i * n + j] = Float(s) + (bias?[j] ?? 0)
            }
        }
        return out
    }
}
