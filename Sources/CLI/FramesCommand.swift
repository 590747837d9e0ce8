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

    func run() async throws {
        let logger = Logger(label: "flamingo.frames")
        if verbose { FFmpegLogging.enable(logger: logger) }
        let options = SamplingOptions(fps: fps, maxFrames: maxFrames, size: size)
        var limits = VideoReaderLimits()
        limits.followSymbolicLinks = true  // an explicit path on the command line

        do {
            let reader = VideoReader(path: video, limits: limits, logger: logger)
            let sampled = try reader.sample(options)
            if let out { try writePNGs(sampled, to: out) }
            if json {
                let report = FramesReport(video: sampled.probe, frames: sampled.frames, warnings: sampled.warnings,
                                          decoding: sampled.statistics)
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
                print(String(decoding: try encoder.encode(report), as: UTF8.self))
            } else {
                printHuman(sampled)
            }
        } catch let error as VideoIOError {
            throw CLIError(error.localizedDescription)
        }
    }

    private func writePNGs(_ sampled: SampledVideo, to directory: String) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        for frame in sampled.frames {
            let png = try PNGEncoder.encode(rgb: sampled.rgb(frame: frame.index), width: sampled.size, height: sampled.size)
            let name = String(format: "frame-%04d.png", frame.index)
            let url = URL(fileURLWithPath: directory).appendingPathComponent(name)
            try Data(png).write(to: url, options: .atomic)
        }
    }

    private func printHuman(_ sampled: SampledVideo) {
        let p = sampled.probe
        print("video:      \(p.path)")
        print("container:  \(p.container)")
        print("codec:      \(p.codec) (\(p.pixelFormat), \(p.bitsPerComponent) bit\(p.interlaced ? ", interlaced" : ""))")
        print("size:       \(p.width)x\(p.height), displayed \(p.displayWidth)x\(p.displayHeight) (DAR \(p.displayAspectRatio), SAR \(p.sampleAspectRatio))")
        print("rotation:   \(p.rotation)°")
        print(String(format: "duration:   %.3f s", p.durationSeconds)
              + (p.declaredDurationSeconds.map { String(format: " (container says %.3f s)", $0) } ?? ""))
        print("frame rate: " + (p.frameRate.map { String(format: "%.3f fps", $0) } ?? "unknown"))
        print("frames:     " + (p.frameCount.map(String.init) ?? "unknown") + ", \(p.keyframeCount) keyframes")
        print(String(format: "start:      %.3f s (time base %@)", p.startTimeSeconds, p.timeBase))
        print("sampled \(sampled.frames.count) frame(s) at \(sampled.size)x\(sampled.size):")
        print("  index   time_s  frame_time_s          pts")
        for f in sampled.frames {
            print(String(format: "  %5d %8.3f %13.3f %12lld%@", f.index, f.timeSeconds, f.frameTimeSeconds,
                         f.pts, f.isKeyframe ? "  key" : ""))
        }
        for warning in sampled.warnings { print("warning: \(warning)") }
    }
}

/// The `--json` shape of `flamingo frames`.
struct FramesReport: Encodable {
    var video: VideoProbe
    var frames: [SampledFrame]
    var warnings: [String]
    var decoding: SamplingReport.Statistics
}
