import Foundation
import Generation
import Model
import VideoIO

/// The in-domain statistics of a model from a set of videos (`flamingo calibrate`, `convert
/// --calibrate`): each video read as the pipelines read it (1 fps, at most `frames` frames spread
/// over it), each frame's mean patch feature from the model's own vision encoder, then
/// DomainStatistics.calibrate; written as domain_stats.safetensors in the model directory.
enum Calibration {
    struct Summary {
        var videos: Int
        var skipped: [String]
        var frames: Int
        var statistics: DomainStatistics
        /// Calibration frames' distances at the 50th, 90th and 99th percentiles and the largest.
        var quantiles: [Float]
    }

    /// Files under `paths` (directories are walked), sorted.
    static func files(_ paths: [String]) -> [String] {
        var out: [String] = []
        for path in paths {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { out.append(path); continue }
            if !isDirectory.boolValue { out.append(path); continue }
            let enumerator = FileManager.default.enumerator(atPath: path)
            while let entry = enumerator?.nextObject() as? String {
                let full = (path as NSString).appendingPathComponent(entry)
                var sub: ObjCBool = false
                if FileManager.default.fileExists(atPath: full, isDirectory: &sub), !sub.boolValue,
                   !(entry as NSString).lastPathComponent.hasPrefix("."), !entry.hasSuffix(".json"), !entry.hasSuffix(".jsonl") {
                    out.append(full)
                }
            }
        }
        return out.sorted()
    }

    static func run(model directory: URL, paths: [String], frames: Int, rank: Int, percentile: Float, margin: Float,
                    limits: VideoReaderLimits, progress: (String) -> Void) throws -> Summary {
        let session = try FlamingoSession(directory: directory)
        let width = session.model.configuration.vision.width
        var features: [Float] = [], count = 0, videos = 0, skipped: [String] = []
        let inputs = files(paths)
        for (number, path) in inputs.enumerated() {
            do {
                let item = try session.loadMedia(path: path, maxFrames: frames, limits: limits)
                let vision = try session.model.visionFeatures(pixels: item.pixels, frames: item.frames.count)
                features += DomainStatistics.frameFeatures(vision, frames: item.frames.count, width: width)
                count += item.frames.count
                videos += 1
            } catch {
                skipped.append("\(path): \(error.localizedDescription)")
            }
            if (number + 1) % 50 == 0 { progress("read \(number + 1) of \(inputs.count) file(s), \(count) frame(s)") }
        }
        let statistics = try DomainStatistics.calibrate(features: features, count: count, width: width, rank: rank,
                                                        percentile: percentile, margin: margin)
        try statistics.write(to: directory, frames: count)
        let distances = (0..<count).map { statistics.distance(features[($0 * width)..<(($0 + 1) * width)]) }.sorted()
        let quantiles = [0.5, 0.9, 0.99].map { distances[min(count - 1, Int(Double(count - 1) * $0))] } + [distances.last ?? 0]
        return Summary(videos: videos, skipped: skipped, frames: count, statistics: statistics, quantiles: quantiles)
    }

    static func report(_ s: Summary, directory: URL) -> String {
        String(format: "wrote %@: %d frame(s) of %d video(s)%@; rank %d of %d; calibration distances: median %.2f, 90%% %.2f, 99%% %.2f, max %.2f; "
               + "threshold %.2f x the %.1f%% distance = %.2f",
               directory.appendingPathComponent(DomainStatistics.fileName).path as NSString, s.frames, s.videos,
               (s.skipped.isEmpty ? "" : ", \(s.skipped.count) skipped") as NSString, s.statistics.rank, s.statistics.width,
               s.quantiles[0], s.quantiles[1], s.quantiles[2], s.quantiles[3], s.statistics.margin, s.statistics.percentile,
               s.statistics.threshold)
    }
}
