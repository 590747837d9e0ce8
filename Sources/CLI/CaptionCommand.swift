import ArgumentParser
import Foundation
import Generation
import VideoIO

/// `flamingo caption VIDEO`: one sentence describing the video.
struct CaptionCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "caption",
        abstract: "Caption a video (or image) with the prompt \"<image>Caption:\".",
        discussion: "JSON output: {\"caption\": ..., \"logprob\": ...} (summed log-probability of the caption's tokens).")

    @Argument(help: "A video or image file.")
    var video: String

    @OptionGroup var model: ModelOption
    @OptionGroup var decoding: DecodingOptions
    @OptionGroup var reader: ReaderOptions

    @Flag(help: "Print JSON.")
    var json = false

    @Flag(help: "Neither read nor write the visual token cache (README, \"Follow-up questions\").")
    var noCache = false

    func run() async throws {
        let session = try model.session()
        let result = try CLIError.reporting {
            let (memory, domain) = try CachedVideoEncoding.memory(session: session, video: video, limits: try reader.limits(.commandLine),
                                                                  useCache: !noCache)
            if let notice = session.outOfDomainNotice(video, domain) { FileHandle.standardError.write(Data((notice + "\n").utf8)) }
            return try session.generate(prompt: Prompts.caption, memory: memory, options: decoding.options)
        }
        if json { print(try JSONOutput.encode(CaptionResult(caption: result.text, logprob: result.logprob))) } else {
            print(result.text)
        }
    }
}

struct CaptionResult: Encodable {
    var caption: String
    var logprob: Double
}
