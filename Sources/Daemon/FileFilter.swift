import Foundation
import VideoIO

/// Which directory entries the daemon takes. Every name with a media-like
/// extension is taken, whether or not the reader accepts its content: what
/// the product refuses gets an error sidecar that says why
/// (`unsupported_format`, `unsupported_codec`), never silence. Passed over:
/// dotfiles, partial downloads, our own sidecars and temporary files, and
/// names that are clearly not video (documents, subtitles, disc navigation
/// data, no extension at all); the watcher logs each of those once at debug level.
public enum FileFilter {
    public enum Decision: Equatable, Sendable {
        case take
        case passOver(reason: String)
    }

    /// The extensions of `MediaCatalogue.containers` and the media-like ones it
    /// refuses, less the refused ones that hold no video at all.
    public static let extensions: Set<String> = MediaCatalogue.acceptedExtensions
        .union(MediaCatalogue.refusedExtensions.keys)
        .subtracting(notVideo)
    /// Refused by the catalogue and not video: subtitles, disc navigation data.
    static let notVideo: Set<String> = ["srt", "ass", "vtt", "sub", "idx", "ifo", "mpls"]
    static let partialSuffixes = [".part", ".crdownload", ".tmp", ".partial", ".download", "~"]

    public static func decide(_ name: String) -> Decision {
        if name.hasPrefix(".") { return .passOver(reason: "hidden file") }
        let lower = name.lowercased()
        if partialSuffixes.contains(where: { lower.hasSuffix($0) }) { return .passOver(reason: "partial download or temporary file") }
        if lower.hasSuffix(".flamingo.json") || lower.hasSuffix(".flamingo.vtt") { return .passOver(reason: "our own sidecar") }
        guard let dot = lower.lastIndex(of: ".") else { return .passOver(reason: "no extension") }
        let ext = String(lower[lower.index(after: dot)...])
        return extensions.contains(ext) ? .take : .passOver(reason: "'.\(ext)' is not a video extension")
    }

    public static func accepts(_ name: String) -> Bool { decide(name) == .take }
}
