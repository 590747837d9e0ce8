import ArgumentParser
import Foundation
import VideoIO

/// `--allow-format`, `--deny-format`, `--allow-codec`, `--deny-codec`: what the
/// reader accepts beyond (or short of) `flamingo formats`' defaults, without a
/// rebuild. The environment variables FLAMINGO_ALLOW_FORMATS,
/// FLAMINGO_DENY_FORMATS, FLAMINGO_ALLOW_CODECS and FLAMINGO_DENY_CODECS
/// (comma- or space-separated; the daemon's /etc/flamingo/watch.env) apply first.
struct ReaderOptions: ParsableArguments {
    @Option(name: .customLong("allow-format"), help: ArgumentHelp(
        "Also accept this FFmpeg demuxer (repeatable).", valueName: "DEMUXER"))
    var allowFormats: [String] = []

    @Option(name: .customLong("deny-format"), help: ArgumentHelp(
        "Refuse this FFmpeg demuxer even if it is accepted by default (repeatable).", valueName: "DEMUXER"))
    var denyFormats: [String] = []

    @Option(name: .customLong("allow-codec"), help: ArgumentHelp(
        "Also accept this FFmpeg video decoder (repeatable).", valueName: "DECODER"))
    var allowCodecs: [String] = []

    @Option(name: .customLong("deny-codec"), help: ArgumentHelp(
        "Refuse this FFmpeg video decoder (repeatable).", valueName: "DECODER"))
    var denyCodecs: [String] = []

    /// `base` with the environment's lists and then these options applied.
    func limits(_ base: VideoReaderLimits = VideoReaderLimits()) throws -> VideoReaderLimits {
        let environment = ProcessInfo.processInfo.environment
        func list(_ name: String) -> [String] {
            (environment[name] ?? "").split(whereSeparator: { $0 == "," || $0 == " " }).map(String.init)
        }
        do {
            return try base.adjusted(
                allowFormats: list("FLAMINGO_ALLOW_FORMATS") + allowFormats,
                denyFormats: list("FLAMINGO_DENY_FORMATS") + denyFormats,
                allowCodecs: list("FLAMINGO_ALLOW_CODECS") + allowCodecs,
                denyCodecs: list("FLAMINGO_DENY_CODECS") + denyCodecs)
        } catch {
            throw CLIError(error.localizedDescription)
        }
    }
}
