import ArgumentParser
import Foundation

/// `flamingo calibrate`: a model's in-domain statistics from videos of the footage it is meant for
/// (docs/MODEL.md, "In-domain score").
struct CalibrateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "calibrate",
        abstract: "Compute a model's in-domain statistics from videos it handles well (writes domain_stats.safetensors into the model).",
        discussion: """
            Each frame's feature is the mean of the vision encoder's patch tokens; the statistics are their mean, \
            the covariance's top --rank eigenvectors and the rest as one variance, and the distance at \
            --percentile of these frames as the in-domain threshold. Sidecars then carry each video's score.
            """)

    @Argument(help: "Videos, or directories of videos (walked), of the footage the model is meant for.")
    var paths: [String]

    @OptionGroup var modelOption: ModelOption
    @OptionGroup var reader: ReaderOptions

    @Option(help: "Frames per video (spread over it, at most 1 per second).")
    var frames: Int = 8

    @Option(help: "Eigenvectors kept (at most the vision width).")
    var rank: Int = 64

    @Option(help: "Percentile of the calibration frames' distances that the threshold starts from.")
    var percentile: Float = 99.5

    @Option(help: "The threshold is this many times that percentile's distance (room for the same world filmed or rendered differently).")
    var margin: Float = 1.5

    func validate() throws {
        guard frames >= 1, rank >= 1, percentile > 0, percentile <= 100, margin >= 1 else {
            throw ValidationError("--frames and --rank must be at least 1, --percentile in (0, 100], --margin at least 1")
        }
    }

    func run() throws {
        let directory = try modelOption.directory
        let summary = try CLIError.reporting {
            try Calibration.run(model: directory, paths: paths, frames: frames, rank: rank, percentile: percentile, margin: margin,
                                limits: try reader.limits(.commandLine)) { FileHandle.standardError.write(Data(($0 + "\n").utf8)) }
        }
        for line in summary.skipped { FileHandle.standardError.write(Data("skipped \(line)\n".utf8)) }
        print(Calibration.report(summary, directory: directory))
    }
}
