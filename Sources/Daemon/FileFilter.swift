import Foundation

/// Which directory entries are videos to process: known video and image
/// extensions only; never dotfiles, partial downloads, temporary names, our
/// own sidecars or temporary files.
public enum FileFilter {
    public static let extensions: Set<String> = [
        "mp4", "m4v", "mov", "3gp", "mkv", "webm", "avi", "ts", "m2ts", "mts", "flv", "ogv", "ogg", "mxf",
        "png", "jpg", "jpeg", "webp",
    ]
    static let partialSuffixes = [".part", ".crdownload", ".tmp", ".partial", ".download", "~"]

    public static func accepts(_ name: String) -> Bool {
        if name.hasPrefix(".") { return false }
        let lower = name.lowercased()
        if partialSuffixes.contains(where: { lower.hasSuffix($0) }) { return false }
        if lower.hasSuffix(".flamingo.json") || lower.hasSuffix(".flamingo.vtt") { return false }
        guard let dot = lower.lastIndex(of: ".") else { return false }
        return extensions.contains(String(lower[lower.index(after: dot)...]))
    }
}
