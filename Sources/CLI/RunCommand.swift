import ArgumentParser
import Cluster
import Daemon
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
            does not stop the others; the exit status is 1 if any video failed. A directory stands for \
            the videos and images under it (recursively, in name order). For a backfill on a batch \
            scheduler, --shard I/N takes a deterministic 1/N of the files (docs/CLUSTER.md, "Backfill").
            """)

    @Argument(help: "Videos, images, or directories of them.")
    var videos: [String]

    @Option(help: ArgumentHelp("Process only shard I of N (0 <= I < N), by a hash of each file's share-relative path.", valueName: "I/N"))
    var shard: String?

    @Option(help: ArgumentHelp("A share root: files under it are keyed by NAME:relative-path for --shard (repeatable).", valueName: "NAME=ROOT"))
    var share: [String] = []

    @Flag(help: "Skip videos whose sidecar is already ours for their current bytes, this pipeline and model.")
    var skipDone = false

    @OptionGroup var options: PipelineOptions
    @OptionGroup var reader: ReaderOptions

    @Flag(help: "Print the sidecar JSON instead of writing files.")
    var stdout = false

    func validate() throws {
        if let shard, Shard(shard) == nil { throw ValidationError("--shard must be I/N with 0 <= I < N, not \(shard)") }
    }

    /// The arguments with directories expanded, then this shard's part of them.
    func selectedVideos() throws -> [String] {
        let shares: ShareMap
        do { shares = try ShareMap(share) } catch { throw CLIError(error.localizedDescription) }
        var files: [String] = []
        for argument in videos {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: argument, isDirectory: &isDirectory), isDirectory.boolValue else {
                files.append(argument)
                continue
            }
            // Enumerated through its resolved path (a directory reached by a link is still walked);
            // the files keep the name the user gave.
            let enumerator = FileManager.default.enumerator(atPath: URL(fileURLWithPath: argument).resolvingSymlinksInPath().path)
            var found: [String] = []
            while let entry = enumerator?.nextObject() as? String {
                let name = (entry as NSString).lastPathComponent
                if name.hasPrefix(".") {
                    if (enumerator?.fileAttributes?[.type] as? FileAttributeType) == .typeDirectory { enumerator?.skipDescendants() }
                    continue
                }
                let path = (argument as NSString).appendingPathComponent(entry)
                if (enumerator?.fileAttributes?[.type] as? FileAttributeType) == .typeRegular, FileFilter.accepts(name) { found.append(path) }
            }
            files += found.sorted()
        }
        guard let shard = shard.flatMap(Shard.init) else { return files }
        return files.filter { shard.contains($0, shares: shares) }
    }

    func run() async throws {
        let runner = try options.makeRunner(limits: try reader.limits(.commandLine))
        var videos = try selectedVideos()
        if skipDone {
            videos = videos.filter { video in
                guard let existing = SidecarWriter.existing(Sidecar.path(for: video)),
                      let now = Sidecar.Fingerprint.of(path: URL(fileURLWithPath: video).resolvingSymlinksInPath().path) else { return true }
                return !(existing.status == "ok" && existing.describes(now, pipeline: runner.pipelineIdentity, model: runner.modelIdentity))
            }
        }
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
