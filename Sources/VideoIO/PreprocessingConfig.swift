/// How sampled RGB frames become the vision encoder's input.
public struct PreprocessingConfig: Sendable, Equatable, Codable {
    /// Per-channel mean and standard deviation on the 0...1 scale.
    public var mean: [Float]
    public var std: [Float]

    /// OpenAI CLIP's statistics (open_clip `OPENAI_DATASET_MEAN/STD`).
    public static let clip = PreprocessingConfig(
        mean: [0.48145466, 0.4578275, 0.40821073],
        std: [0.26862954, 0.26130258, 0.27577711])

    public init(mean: [Float], std: [Float]) {
        self.mean = mean
        self.std = std
    }

    public func validate() throws(VideoIOError) {
        guard mean.count == 3, std.count == 3 else {
            throw .invalidOptions(reason: "mean and std need 3 values each, got \(mean.count) and \(std.count)")
        }
        guard std.allSatisfy({ $0 > 0 && $0.isFinite }), mean.allSatisfy(\.isFinite) else {
            throw .invalidOptions(reason: "std must be positive and mean finite")
        }
    }
}
