import ArgumentParser
import Foundation
import Pipeline
import Generation
import Model

/// `flamingo bench domain`: what the in-domain score costs against the caption it comes with (docs/MODEL.md,
/// "In-domain score"): one caption of a video (vision encoder, resampler, greedy decoding) against the
/// score alone on the same vision features (a mean over each frame's tokens and one distance per frame).
struct BenchDomainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "domain",
        abstract: "The in-domain score's cost against a caption of the same video (default: the sample clip and the shipped model).")

    @Argument(help: "A video (default: Pipelines/examples/shapes.mp4).")
    var video: String?

    @OptionGroup var modelOption: ModelOption

    @Option(help: "Timed runs of each (median).")
    var runs: Int = 20

    func run() throws {
        let session = try modelOption.session()
        guard let statistics = session.model.domain else {
            throw CLIError("\(session.directory.path): the model has no in-domain statistics (flamingo calibrate)")
        }
        let path = video ?? ResourceLocator.pipelinesDirectory.appendingPathComponent("examples/shapes.mp4").path
        let item = try CLIError.reporting { try session.loadMedia(path: path) }
        let frames = item.frames.count
        let features = try CLIError.reporting { try session.model.visionFeatures(pixels: item.pixels, frames: frames) }
        var score: Float = 0
        let caption = try Stopwatch.medianSeconds(runs: runs) {
            let memory = try session.encode([item])
            _ = try session.generate(prompt: Prompts.caption, memory: memory, options: GenerationOptions())
        }
        let scoring = Stopwatch.medianSeconds(runs: runs * 10) { score = statistics.score(visionFeatures: features, frames: frames) }
        print(String(format: "in-domain score of %@ (%d frame(s)): %.2f (threshold %.2f); score %.3f ms, caption %.1f ms: %.3f%% of a caption",
                     path as NSString, frames, score, statistics.threshold, scoring * 1e3, caption * 1e3, scoring / caption * 100))
    }
}
