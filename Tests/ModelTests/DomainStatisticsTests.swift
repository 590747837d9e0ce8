import Foundation
import TestSupport
import XCTest
@testable import Model

/// The in-domain statistics (docs/MODEL.md, "In-domain score"): calibration recovers a known
/// covariance, the distance is the Mahalanobis distance under it, the threshold sits at the stated
/// percentile of the calibration frames, and the file round-trips through strict loading.
final class DomainStatisticsTests: XCTestCase {
    /// Gaussian samples with standard deviations 1..D along the axes.
    private func samples(_ n: Int, width d: Int, using rng: inout SplitMix64) -> [Float] {
        (0..<(n * d)).map { i in
            let u1 = max(Float.random(in: 0..<1, using: &rng), 1e-7), u2 = Float.random(in: 0..<1, using: &rng)
            return Float(i % d + 1) * (-2 * log(u1)).squareRoot() * cos(2 * .pi * u2) + 5
        }
    }

    func testCalibrationRecoversTheCovarianceAndTheThreshold() throws {
        var rng = SplitMix64(seed: 26)
        let (n, d) = (4000, 6)
        let x = samples(n, width: d, using: &rng)
        let stats = try DomainStatistics.calibrate(features: x, count: n, width: d, rank: 3, percentile: 99)
        for j in 0..<d { XCTAssertEqual(stats.mean[j], 5, accuracy: 0.4, "mean \(j)") }
        // Top three variances: 36, 25, 16 along axes 5, 4, 3.
        for (i, axis) in [5, 4, 3].enumerated() {
            XCTAssertEqual(stats.variances[i], Float((axis + 1) * (axis + 1)), accuracy: Float((axis + 1) * (axis + 1)) * 0.1)
            XCTAssertEqual(abs(stats.basis[i * d + axis]), 1, accuracy: 0.05, "eigenvector \(i) is axis \(axis)")
        }
        XCTAssertEqual(stats.residualVariance, (1 + 4 + 9) / 3, accuracy: 0.6, "the other eigenvalues' mean")
        // The threshold is the 99th percentile of the calibration frames' own distances.
        let distances = (0..<n).map { stats.distance(x[($0 * d)..<(($0 + 1) * d)]) }
        let under = distances.filter { $0 <= stats.threshold }.count
        XCTAssertEqual(Double(under) / Double(n), 0.99, accuracy: 0.002)
        // A point 50 units out along the smallest axis (lumped into the residual variance, about 4.7) is far
        // out; the mean is at 0.
        var far = stats.mean
        far[0] += 50
        XCTAssertGreaterThan(stats.distance(far[...]), 3 * stats.threshold)
        XCTAssertEqual(stats.distance(stats.mean[...]), 0, accuracy: 1e-4)
    }

    func testTheFileRoundTripsAndIsLoadedStrictly() throws {
        var rng = SplitMix64(seed: 27)
        let (n, d) = (200, 8)
        let stats = try DomainStatistics.calibrate(features: samples(n, width: d, using: &rng), count: n, width: d, rank: 4, percentile: 99.5)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("domain-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        XCTAssertNil(try DomainStatistics.load(directory: dir, width: d))
        try stats.write(to: dir, frames: n)
        let loaded = try XCTUnwrap(try DomainStatistics.load(directory: dir, width: d))
        XCTAssertEqual(loaded.mean, stats.mean)
        XCTAssertEqual(loaded.basis, stats.basis)
        XCTAssertEqual(loaded.threshold, stats.threshold)
        XCTAssertEqual(loaded.percentile, 99.5)
        XCTAssertThrowsError(try DomainStatistics.load(directory: dir, width: d + 1)) { error in
            XCTAssertTrue(error.localizedDescription.contains("mean") && error.localizedDescription.contains(DomainStatistics.fileName),
                          error.localizedDescription)
        }
        XCTAssertThrowsError(try DomainStatistics.calibrate(features: [1, 2], count: 1, width: 2, rank: 1, percentile: 99))
    }
}
