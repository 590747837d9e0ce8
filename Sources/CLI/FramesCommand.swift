import ArgumentParser
import Foundation
import Logging
import VideoIO

/// `flamingo frames`: what the sampler does to a video, frame by frame.
struct FramesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "frames",
        abstract: "Sample a video at 1 frame per second and show what the model would see.",
        discussion: """
            Prints the probe (container, codec, size, aspect, rotation, duration, frame rate, \
            frame count) and every sampled frame. --out writes each frame as a PNG, \
            un-normalised, exactly as the vision encoder receives it.
            """)

    @Argument(help: "A video or still image (mp4, mov, mkv, webm, avi, ts, flv, ogg, mxf, png, jpeg, webp).")
    var video: String

    @Option(help: "Samples per second of presentation time.")
    var fps: Double = 1

    @Option(help: "Side of the square frames, in pixels.")
    var size: Int = 224

    @Option(help: "At most this many frames, spread evenly over the whole video.")
    var maxFrames: Int?

    @Option(help: "Write each sampled frame as DIR/frame-NNNN.png.")
    var out: String?

    @Flag(help: "Print one JSON object with keys `video` and `frames`.")
    var json = false

    @Flag(help: "Show FFmpeg's own warnings.")
    var verbose = false

    @OptionGroup var reader: ReaderOptions

    func run() async throws {
        let logger = Logger(label: "flamingo.frames")
        if verbose { FFmpegLogging.enable(logger: logger) }
        let options = SamplingOptions(fps: fps, maxFrames: maxFrames, size: size)
        let limits = try reader.limits(.commandLine)  // an explicit path: symbolic links are followed

        do {
            let reader = VideoReader(path: video, limits: limits, logger: logger)
            let directory = out.map { URL(fileURLWithPath: $0) }
            if let directory { try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true) }
            // Everything is written as it is produced: memory does not grow with the video.
            var output = FramesOutput(json: json, size: size)
            var pngError: (any Error)?
            let report = try reader.sample(options, onProbe: { output.begin($0) }) { frame, pixels in
                if let directory, pngError == nil {
                    do {
                        let png = try PNGEncoder.encode(rgb: ArraySlice(pixels), width: size, height: size)
                        let url = directory.appendingPathComponent(String(format: "frame-%04d.png", frame.index))
                        try Data(png).write(to: url, options: .atomic)
                    } catch { pngError = error }
                }
                output.frame(frame)
            }
            if let pngError { throw CLIError("\(out ?? ""): cannot write a frame: \(pngError.localizedDescription)") }
            output.end(report)
        } catch let error as VideoIOError {
            throw CLIError(error.localizedDescription)
        }
    }
}
