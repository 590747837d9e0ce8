import ArgumentParser
import Foundation
import Generation
import Pipeline
import VideoIO

/// `flamingo run`: one pipeline over the given videos, once.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a pipeline on videos and write VIDEO.flamingo.json next to each (or print it).",
        discussion: """
            A failure with one video (unreadable, corrupt, ...) gives that video an error sidecar and \
            does not stop the others; the exit status is 1 if any video failed.
            """)

    @Argument(help: "Videos or images.")
    var videos: [String]

    @OptionGroup var options: PipelineOptions
    @OptionGroup var reader: ReaderOptions

    @Flag(help: "Print the sidecar JSON instead of writing files.")
    var stdout = false

    func run() async throws {
        let runner = try options.makeRunner(limits: try reader.limits(.commandLine))
        var failures = 0
        var printed: [Sidecar] = []
        // Progress on a terminal; nothing extra when stderr is a file or a pipe.
        let terminal = isatty(STDERR_FILENO) == 1
        for (index, video) in videos.enumerated() {
            let label = "[\(index + 1)/\(videos.count)] \((video as NSString).lastPathComponent)"
            let sidecar = runner.sidecar(for: video, progress: terminal ? { message in
                FileHandle.standardError.write(Data("\r\u{1B}[K\(label): \(message)".utf8))
            } : nil)
            if terminal { FileHandle.standardError.write(Data("\r\u{1B}[K\(label): \(sidecar.status)\n".utf8)) }
            if sidecar.status != "ok" {
                failures += 1
                FileHandle.standardError.write(Data("\(sidecar.error?.message ?? video)\n".utf8))
            }
            if stdout {
                printed.append(sidecar)
            } else {
                do {
                    try SidecarWriter.publish(sidecar, for: video)
                } catch {
                    failures += 1
                    FileHandle.standardError.write(Data("\(error.localizedDescription)\n".utf8))
                }
            }
        }
        if stdout {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            let data = printed.count == 1 ? try encoder.encode(printed[0]) : try encoder.encode(printed)
            print(String(decoding: data, as: UTF8.self))
        }
        if failures > 0 { throw ExitCode(1) }
    }
}
