import COpenBLAS
import Foundation
import Weights

/// What a model's vision features look like on the footage it was trained for, and how far a new
/// media item is from it (docs/MODEL.md, "In-domain score"). Stored beside the weights as
/// `domain_stats.safetensors`:
///
/// | key | shape | meaning |
/// |---|---|---|
/// | `mean` | (D) | mean of the per-frame features |
/// | `basis` | (r, D) | the covariance's top r eigenvectors (rows) |
/// | `variances` | (r) | their eigenvalues |
/// | `residual_variance` | (1) | the mean of the other D - r eigenvalues (probabilistic PCA) |
/// | `threshold` | (1) | `margin` times the distance at `percentile` of the calibration frames |
/// | `percentile` | (1) | that percentile, e.g. 99.5 |
/// | `margin` | (1) | that factor, e.g. 1.5 |
///
/// A frame's feature is the mean of the vision encoder's patch tokens (D = vision width). Its
/// distance is the Mahalanobis distance under the low-rank-plus-isotropic covariance,
/// sqrt(Σ_i (b_i·c)² / λ_i + (‖c‖² − Σ_i (b_i·c)²) / σ²) with c = x − mean; a media item's score is
/// the median of its frames' distances, and it is in domain when the score is at most the threshold.
public struct DomainStatistics: Sendable {
    public static let fileName = "domain_stats.safetensors"

    public let mean: [Float]
    public let basis: [Float]
    public let variances: [Float]
    public let residualVariance: Float
    public let threshold: Float
    public let percentile: Float
    public let margin: Float
    public var width: Int { mean.count }
    public var rank: Int { variances.count }

    public init(mean: [Float], basis: [Float], variances: [Float], residualVariance: Float, threshold: Float, percentile: Float,
                margin: Float) {
        self.mean = mean
        self.basis = basis
        self.variances = variances
        self.residualVariance = residualVariance
        self.threshold = threshold
        self.percentile = percentile
        self.margin = margin
    }

    /// The statistics in `directory` for a vision encoder `width` wide; nil when there are none.
    public static func load(directory: URL, width: Int) throws(ModelError) -> DomainStatistics? {
        let url = directory.appendingPathComponent(fileName)
        guard FileManager.default.fileExists(atPath: url.path) else { return nil }
        do throws(WeightError) {
            let file = try SafetensorsFile(path: url.path)
            guard let rank = file.entries["variances"]?.shape.first else {
                throw WeightError.missingTensor(key: "variances", expectedShape: [-1])
            }
            let known: Set<String> = ["mean", "basis", "variances", "residual_variance", "threshold", "percentile", "margin"]
            if let unknown = Set(file.entries.keys).subtracting(known).sorted().first {
                throw WeightError.unknownTensors(keys: [unknown])
            }
            func take(_ key: String, _ shape: [Int]) throws(WeightError) -> [Float] {
                guard let entry = file.entries[key] else { throw .missingTensor(key: key, expectedShape: shape) }
                guard entry.shape == shape else { throw .wrongShape(key: key, expected: shape, actual: entry.shape) }
                return try file.floats(key)
            }
            let stats = DomainStatistics(
                mean: try take("mean", [width]), basis: try take("basis", [rank, width]), variances: try take("variances", [rank]),
                residualVariance: try take("residual_variance", [1])[0], threshold: try take("threshold", [1])[0],
                percentile: try take("percentile", [1])[0], margin: try take("margin", [1])[0])
            guard rank >= 1, rank <= width, stats.variances.allSatisfy({ $0 > 0 && $0.isFinite }), stats.residualVariance > 0,
                  stats.threshold > 0, stats.threshold.isFinite else {
                throw WeightError.outOfBounds(path: url.path, key: "variances", reason: "variances and the threshold must be positive and finite")
            }
            return stats
        } catch {
            throw .invalidConfiguration(path: url.path, reason: error.localizedDescription)
        }
    }

    /// Per-frame features (frames, D): the mean over each frame's patch tokens of `visionFeatures`
    /// (frames, tokens, D).
    public static func frameFeatures(_ visionFeatures: [Float], frames: Int, width: Int) -> [Float] {
        let tokens = visionFeatures.count / max(1, frames * width)
        var out = [Float](repeating: 0, count: frames * width)
        visionFeatures.withUnsafeBufferPointer { v in
            for f in 0..<frames {
                for t in 0..<tokens {
                    let row = v.baseAddress! + (f * tokens + t) * width
                    for j in 0..<width { out[f * width + j] += row[j] }
                }
                for j in 0..<width { out[f * width + j] /= Float(max(1, tokens)) }
            }
        }
        return out
    }

    /// The distance of one feature vector (D) from the statistics.
    public func distance(_ x: ArraySlice<Float>) -> Float {
        let d = width
        var centered = [Float](repeating: 0, count: d)
        var norm: Float = 0
        for (j, v) in x.enumerated() {
            centered[j] = v - mean[j]
            norm += centered[j] * centered[j]
        }
        var explained: Float = 0, projected: Float = 0
        for i in 0..<rank {
            var p: Float = 0
            for j in 0..<d { p += basis[i * d + j] * centered[j] }
            explained += p * p / variances[i]
            projected += p * p
        }
        return (explained + max(0, norm - projected) / residualVariance).squareRoot()
    }

    /// A media item's check: its score against this threshold.
    public func check(visionFeatures: [Float], frames: Int) -> DomainCheck {
        DomainCheck(score: score(visionFeatures: visionFeatures, frames: frames), threshold: threshold)
    }

    /// A media item's score: the median of its frames' distances, from its vision features.
    public func score(visionFeatures: [Float], frames: Int) -> Float {
        let features = Self.frameFeatures(visionFeatures, frames: frames, width: width)
        let distances = (0..<frames).map { distance(features[($0 * width)..<(($0 + 1) * width)]) }.sorted()
        return distances.isEmpty ? 0 : distances[distances.count / 2]
    }

    /// Statistics of calibration frames' features (n, D): mean, covariance, its top `rank`
    /// eigenvectors (LAPACK ssyev), the rest as one residual variance, and `margin` times the distance at
    /// `percentile` of those same frames as the threshold.
    public static func calibrate(features: [Float], count n: Int, width d: Int, rank requested: Int,
                                 percentile: Float, margin: Float = 1) throws(ModelError) -> DomainStatistics {
        guard n >= 2, features.count == n * d else {
            throw .invalidInput("calibration needs at least 2 frames of \(d) features; got \(n)")
        }
        var mean = [Float](repeating: 0, count: d)
        for i in 0..<n { for j in 0..<d { mean[j] += features[i * d + j] } }
        for j in 0..<d { mean[j] /= Float(n) }
        var centered = features
        for i in 0..<n { for j in 0..<d { centered[i * d + j] -= mean[j] } }
        // covariance (d, d) = centeredᵀ centered / n; ssyev reads the upper triangle (column-major = the
        // lower triangle of this row-major matrix, the same values by symmetry).
        var covariance = [Float](repeating: 0, count: d * d)
        cblas_ssyrk(CblasRowMajor, CblasUpper, CblasTrans, Int32(d), Int32(n), 1 / Float(n), centered, Int32(d), 0, &covariance, Int32(d))
        for i in 0..<d { for j in 0..<i { covariance[i * d + j] = covariance[j * d + i] } }
        var eigenvalues = [Float](repeating: 0, count: d)
        var info: Int32 = 0, size = Int32(d), lwork: Int32 = -1
        var query: Float = 0
        "V".withCString { jobz in
            "U".withCString { uplo in
                ssyev_(jobz, uplo, &size, &covariance, &size, &eigenvalues, &query, &lwork, &info)
                lwork = Int32(query)
                var work = [Float](repeating: 0, count: Int(max(1, lwork)))
                ssyev_(jobz, uplo, &size, &covariance, &size, &eigenvalues, &work, &lwork, &info)
            }
        }
        guard info == 0 else { throw .invalidInput("the calibration covariance's eigendecomposition failed (LAPACK info \(info))") }
        // Eigenvalues ascending; eigenvector k is column k of the (column-major) result = row k here.
        let rank = max(1, min(requested, d))
        let floor = max(1e-12, (eigenvalues.last ?? 0) * 1e-6)
        var basis = [Float](repeating: 0, count: rank * d), variances = [Float](repeating: 0, count: rank)
        for i in 0..<rank {
            let k = d - 1 - i
            variances[i] = max(eigenvalues[k], floor)
            for j in 0..<d { basis[i * d + j] = covariance[k * d + j] }
        }
        let rest = eigenvalues[0..<(d - rank)]
        let residual = max(rest.isEmpty ? floor : rest.reduce(0, +) / Float(rest.count), floor)
        var stats = DomainStatistics(mean: mean, basis: basis, variances: variances, residualVariance: residual,
                                     threshold: 1, percentile: percentile, margin: margin)
        let distances = (0..<n).map { stats.distance(features[($0 * d)..<(($0 + 1) * d)]) }.sorted()
        let index = min(n - 1, max(0, Int((Float(n - 1) * percentile / 100).rounded(.up))))
        stats = DomainStatistics(mean: mean, basis: basis, variances: variances, residualVariance: residual,
                                 threshold: margin * distances[index], percentile: percentile, margin: margin)
        return stats
    }

    /// Writes the statistics as `domain_stats.safetensors` in `directory`.
    public func write(to directory: URL, frames: Int) throws {
        let tensors: [String: SafetensorsWriter.Tensor] = [
            "mean": .init(shape: [width]) { mean },
            "basis": .init(shape: [rank, width]) { basis },
            "variances": .init(shape: [rank]) { variances },
            "residual_variance": .init(shape: [1]) { [residualVariance] },
            "threshold": .init(shape: [1]) { [threshold] },
            "percentile": .init(shape: [1]) { [percentile] },
            "margin": .init(shape: [1]) { [margin] },
        ]
        try SafetensorsWriter.write(tensors, dtype: .f32, metadata: [
            "feature": "per frame, the mean of the vision encoder's patch tokens", "calibration_frames": "\(frames)",
        ], to: directory.appendingPathComponent(Self.fileName))
    }
}
