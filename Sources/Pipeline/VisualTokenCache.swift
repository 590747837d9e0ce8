import Foundation
import Weights

/// The resampled visual tokens of videos already seen (the Perceiver's output, latents x width, as
/// float32), so that a follow-up question about the same video costs the text alone: no read, no
/// vision encoder, no resampler (README, "Follow-up questions"). One safetensors file per entry in
/// `$FLAMINGO_CACHE_DIR`, else `$XDG_CACHE_HOME/flamingo/visual-tokens`, else
/// `~/.cache/flamingo/visual-tokens`; size-bounded, least recently used first out.
///
/// An entry's key is the SHA-256 of the video's resolved path and fingerprint (size, mtime, inode),
/// the model's identity (the hash of its config.json and its weights file's size and mtime) and the
/// sampling (frames, image size), so a changed video, another model or other sampling never hits.
/// Entries keep float32 (not F16) so a cached answer is exactly the uncached one.
public final class VisualTokenCache: @unchecked Sendable {
    public let directory: URL
    public let maxBytes: Int

    public struct Entry: Sendable {
        /// (latents, width) of the video's one media item.
        public var latents: [Float]
        public var frames: Int
        /// The in-domain score, when the model has statistics.
        public var domainScore: Float?

        public init(latents: [Float], frames: Int, domainScore: Float?) {
            self.latents = latents
            self.frames = frames
            self.domainScore = domainScore
        }
    }

    public init(directory: URL, maxBytes: Int = 512 << 20) {
        self.directory = directory
        self.maxBytes = maxBytes
    }

    /// The cache directory for this user (the environment decides; see the type's comment).
    public static var standardDirectory: URL {
        let environment = ProcessInfo.processInfo.environment
        if let explicit = environment["FLAMINGO_CACHE_DIR"], !explicit.isEmpty { return URL(fileURLWithPath: explicit) }
        let base = environment["XDG_CACHE_HOME"].flatMap { $0.isEmpty ? nil : URL(fileURLWithPath: $0) }
            ?? FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache")
        return base.appendingPathComponent("flamingo/visual-tokens")
    }

    /// The key of `video` (its fingerprint now) for this model and sampling; nil when it cannot be read.
    public static func key(video: String, modelDirectory: URL, frames: Int, imageSize: Int) -> String? {
        let resolved = URL(fileURLWithPath: video).resolvingSymlinksInPath().path
        guard let fingerprint = Sidecar.Fingerprint.of(path: resolved),
              let config = try? Data(contentsOf: modelDirectory.appendingPathComponent("config.json")) else { return nil }
        var weights = stat()
        let weightsPath = modelDirectory.appendingPathComponent("model.safetensors").path
        let weightsStamp = stat(weightsPath, &weights) == 0
            ? "\(weights.st_size)-\(weights.st_mtim.tv_sec)-\(weights.st_mtim.tv_nsec)" : "none"
        let text = "v1|\(resolved)|\(fingerprint.size)|\(fingerprint.mtimeNs)|\(fingerprint.inode)|\(SHA256.hex(config))|\(weightsStamp)|\(frames)|\(imageSize)"
        return SHA256.hex(Data(text.utf8))
    }

    private func url(_ key: String) -> URL { directory.appendingPathComponent("\(key).safetensors") }

    /// The entry, if present and well-formed (it is then marked as just used).
    public func load(_ key: String, width: Int) -> Entry? {
        let url = url(key)
        guard let file = try? SafetensorsFile(path: url.path), let shape = file.entries["latents"]?.shape, shape.count == 2,
              shape[1] == width, let latents = try? file.floats("latents"), let frames = Int(file.metadata["frames"] ?? "") else {
            return nil
        }
        utimes(url.path, nil)  // least recently used goes first
        return Entry(latents: latents, frames: frames, domainScore: file.metadata["domain_score"].flatMap(Float.init))
    }

    /// Stores an entry (best effort: a cache that cannot be written is no error), then trims the cache.
    public func store(_ key: String, _ entry: Entry, width: Int) {
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            var metadata = ["frames": "\(entry.frames)"]
            if let score = entry.domainScore { metadata["domain_score"] = "\(score)" }
            let rows = entry.latents.count / max(1, width)
            try SafetensorsWriter.write(["latents": .init(shape: [rows, width]) { entry.latents }], dtype: .f32, metadata: metadata,
                                        to: url(key))
            trim()
        } catch {
            return
        }
    }

    /// Removes the least recently used entries until the cache fits `maxBytes`.
    func trim() {
        let keys: [URLResourceKey] = [.contentModificationDateKey, .fileSizeKey]
        guard let files = try? FileManager.default.contentsOfDirectory(at: directory, includingPropertiesForKeys: keys) else { return }
        var entries = files.filter { $0.pathExtension == "safetensors" }.compactMap { url -> (URL, Date, Int)? in
            guard let values = try? url.resourceValues(forKeys: Set(keys)) else { return nil }
            return (url, values.contentModificationDate ?? .distantPast, values.fileSize ?? 0)
        }
        var total = entries.reduce(0) { $0 + $1.2 }
        entries.sort { $0.1 < $1.1 }
        for (url, _, size) in entries where total > maxBytes {
            try? FileManager.default.removeItem(at: url)
            total -= size
        }
    }
}
