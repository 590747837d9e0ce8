import ArgumentParser
import Daemon
import Foundation
import VideoIO

/// `flamingo formats`: what the reader accepts, as `ffmpeg -formats` does for
/// FFmpeg: the demuxers with the extensions the daemon watches for them, the
/// video decoders, and the media-like extensions that are refused and why.
/// With `--allow-format` and the rest (or their FLAMINGO_* variables) it
/// shows the lists those options make.
struct FormatsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "formats",
        abstract: "List the containers and video codecs the reader accepts.",
        discussion: "docs/FORMATS.md says why each is there and how each was tested.")

    @OptionGroup var reader: ReaderOptions

    @Flag(help: "Print one JSON object with keys `containers`, `codecs` and `refused_extensions`.")
    var json = false

    struct Listing: Encodable {
        struct Container: Encodable {
            var name: String
            var extensions: [String]
            var description: String
        }
        struct Codec: Encodable {
            var decoder: String
            var description: String
        }
        var containers: [Container]
        var codecs: [Codec]
        var refusedExtensions: [String: String]

        enum CodingKeys: String, CodingKey {
            case containers, codecs
            case refusedExtensions = "refused_extensions"
        }
    }

    func run() throws {
        let limits = try reader.limits()
        let catalogue = Dictionary(MediaCatalogue.containers.map { ($0.name, $0) }) { a, _ in a }
        let codecs = Dictionary(MediaCatalogue.codecs.map { ($0.decoder, $0) }) { a, _ in a }
        let listing = Listing(
            containers: limits.allowedFormats.map {
                .init(name: $0, extensions: catalogue[$0]?.extensions ?? [],
                      description: catalogue[$0]?.description ?? "allowed by --allow-format or FLAMINGO_ALLOW_FORMATS")
            },
            codecs: limits.allowedDecoders.map {
                .init(decoder: $0, description: codecs[$0]?.description ?? "allowed by --allow-codec or FLAMINGO_ALLOW_CODECS")
            },
            refusedExtensions: MediaCatalogue.refusedExtensions)
        if json {
            print(try JSONOutput.encode(listing))
            return
        }
        print("Containers (FFmpeg demuxer: watched extensions):")
        for c in listing.containers {
            print("  \(c.name.padding(toLength: 10, withPad: " ", startingAt: 0)) \(c.extensions.isEmpty ? "-" : c.extensions.joined(separator: " "))")
        }
        print("Video codecs (FFmpeg decoder):")
        for c in listing.codecs {
            // The description's first phrase: up to ": ", ", " or " (".
            let ends = [": ", ", ", " ("].compactMap { c.description.range(of: $0)?.lowerBound }
            let line = ends.min().map { String(c.description[..<$0]) } ?? c.description
            print("  \(c.decoder.padding(toLength: 10, withPad: " ", startingAt: 0)) \(line.hasSuffix(".") ? String(line.dropLast()) : line)")
        }
        print("Refused media-like extensions (an error sidecar says why):")
        for ext in listing.refusedExtensions.keys.sorted() where FileFilter.extensions.contains(ext) {
            print("  .\(ext.padding(toLength: 9, withPad: " ", startingAt: 0)) \(listing.refusedExtensions[ext] ?? "")")
        }
        let ignored = listing.refusedExtensions.keys.filter { !FileFilter.extensions.contains($0) }.sorted()
        print("Not video, passed over by `flamingo watch`: " + ignored.map { "." + $0 }.joined(separator: " "))
        print("Never opened: playlists, concat scripts, image sequences, network and device formats ("
              + MediaCatalogue.neverAllowedFormats.keys.sorted().prefix(8).joined(separator: ", ") + ", ...).")
    }
}
