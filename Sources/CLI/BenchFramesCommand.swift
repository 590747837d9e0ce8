import ArgumentParser
import Foundation
import VideoIO

/// `flamingo bench frames`: our sampler against the ffmpeg CLI's fps filter,
/// measured in the same run on the same files with the same thread count.
/// Build in release mode (`swift build -c release`) before trusting figures.
struct BenchFramesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "frames",
        abstract: "Compare the 1 fps sampler with `ffmpeg -vf fps=1,scale=R:R` on the same files.",
        discussion: """
            Runs are interleaved (ours, ffmpeg, ours, ...) so both see the same machine load; \
            the table gives median wall time, CPU time (user + system) and the ratio ffmpeg/ours \
            (above 1: we are faster).
            """)

    @Argument(help: "Video files to measure.")
    var files: [String]

    @Option(help: "Timed runs per tool and file (after one warm-up each).")
    var runs: Int = 3

    @Option(help: "Output side R, in pixels.")
    var size: Int = 224

    @Option(help: "Threads for both: our decoders and ffmpeg's -threads.")
    var threads: Int = 2

    @Option(help: "The ffmpeg executable to compare against.")
    var ffmpeg: String = "ffmpeg"

    @Flag(help: "Print JSON instead of a table.")
    var json = false

    struct Row: Codable {
        var file: String
        var frames: Int
        var oursWallSeconds: Double
        var oursCPUSeconds: Double
        var ffmpegWallSeconds: Double
        var ffmpegCPUSeconds: Double
        var ratio: Double

        enum CodingKeys: String, CodingKey {
            case file, frames, ratio
            case oursWallSeconds = "ours_wall_s"
            case oursCPUSeconds = "ours_cpu_s"
            case ffmpegWallSeconds = "ffmpeg_wall_s"
            case ffmpegCPUSeconds = "ffmpeg_cpu_s"
        }
    }

    func validate() throws {
        guard runs >= 1 else { throw ValidationError("--runs must be at least 1") }
        guard threads >= 1 else { throw ValidationError("--threads must be at least 1") }
    }

    func run() async throws {
        var limits = VideoReaderLimits()
        limits.decoderThreads = threads
        limits.followSymbolicLinks = true
        let options = SamplingOptions(fps: 1, size: size)
        var rows: [Row] = []
        for file in files {
            var ours: [(wall: Double, cpu: Double)] = []
            var theirs: [(wall: Double, cpu: Double)] = []
            var frames = 0
            for r in 0...runs {
                let a = try measureOurs(file, limits: limits, options: options, frames: &frames)
                let b = try measureFFmpeg(file)
                if r > 0 {  // run 0 warms the page cache and the dynamic loader
                    ours.append(a)
                    theirs.append(b)
                }
            }
            let ow = median(ours.map(\.wall)), fw = median(theirs.map(\.wall))
            rows.append(Row(file: file, frames: frames, oursWallSeconds: ow, oursCPUSeconds: median(ours.map(\.cpu)),
                            ffmpegWallSeconds: fw, ffmpegCPUSeconds: median(theirs.map(\.cpu)), ratio: fw / ow))
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: try encoder.encode(rows), as: UTF8.self))
        } else {
            print("threads \(threads), R \(size), median of \(runs) run(s); ratio = ffmpeg wall / ours wall")
            print("file                                  frames  ours wall  ours cpu  ffmpeg wall  ffmpeg cpu  ratio")
            for row in rows {
                let name = URL(fileURLWithPath: row.file).lastPathComponent
                print(String(format: "%-36@ %7d %9.2fs %8.2fs %11.2fs %10.2fs %6.2fx", name.padding(toLength: 36, withPad: " ", startingAt: 0) as NSString,
                             row.frames, row.oursWallSeconds, row.oursCPUSeconds, row.ffmpegWallSeconds, row.ffmpegCPUSeconds, row.ratio))
            }
        }
    }

    private func measureOurs(_ file: String, limits: VideoReaderLimits, options: SamplingOptions, frames: inout Int) throws -> (wall: Double, cpu: Double) {
        let cpu0 = Self.cpuSeconds(children: false)
        let t0 = DispatchTime.now().uptimeNanoseconds
        var count = 0
        do {
            try VideoReader(path: file, limits: limits).sample(options) { _, _ in count += 1 }
        } catch {
            throw CLIError(error.localizedDescription)
        }
        let wall = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
        frames = count
        return (wall, Self.cpuSeconds(children: false) - cpu0)
    }

    private func measureFFmpeg(_ file: String) throws -> (wall: Double, cpu: Double) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [ffmpeg, "-nostdin", "-v", "error", "-threads", String(threads), "-i", file,
                             "-vf", "fps=1,scale=\(size):\(size)", "-f", "rawvideo", "-y", "/dev/null"]
        let cpu0 = Self.cpuSeconds(children: true)
        let t0 = DispatchTime.now().uptimeNanoseconds
        try process.run()
        process.waitUntilExit()
        let wall = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
        guard process.terminationStatus == 0 else {
            throw CLIError("\(ffmpeg) failed on \(file) with status \(process.terminationStatus)")
        }
        return (wall, Self.cpuSeconds(children: true) - cpu0)
    }

    private static func cpuSeconds(children: Bool) -> Double {
        var usage = rusage()
        getrusage(__rusage_who_t((children ? RUSAGE_CHILDREN : RUSAGE_SELF).rawValue), &usage)
        return Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6
            + Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6
    }

    private func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        return sorted.isEmpty ? 0 : sorted.count % 2 == 1
            ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
    }
}
