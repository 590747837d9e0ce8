import Foundation
import XCTest

/// `flamingo formats` and the options that change the lists.
final class FormatsCommandTests: XCTestCase {
    private let scratch = FileManager.default.temporaryDirectory

    func testListsTheCatalogueAndAppliesAllowAndDeny() throws {
        let listing = try TinyModel.flamingo(["formats", "--json"], scratch: scratch)
        XCTAssertEqual(listing.status, 0, listing.stderr)
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: listing.stdout) as? [String: Any])
        let containers = try XCTUnwrap(json["containers"] as? [[String: Any]]).compactMap { $0["name"] as? String }
        for name in ["mov", "matroska", "mpeg", "asf", "dv", "gif"] { XCTAssertTrue(containers.contains(name), name) }
        let codecs = try XCTUnwrap(json["codecs"] as? [[String: Any]]).compactMap { $0["decoder"] as? String }
        for name in ["h264", "msmpeg4", "wmv3", "vc1", "dvvideo", "cinepak"] { XCTAssertTrue(codecs.contains(name), name) }

        let changed = try TinyModel.flamingo(["formats", "--json", "--deny-format", "asf", "--allow-codec", "huffyuv"], scratch: scratch)
        let adjusted = try XCTUnwrap(JSONSerialization.jsonObject(with: changed.stdout) as? [String: Any])
        XCTAssertFalse(try XCTUnwrap(adjusted["containers"] as? [[String: Any]]).contains { $0["name"] as? String == "asf" })
        XCTAssertTrue(try XCTUnwrap(adjusted["codecs"] as? [[String: Any]]).contains { $0["decoder"] as? String == "huffyuv" })

        for (option, value, message) in [("--allow-format", "hls", "format 'hls' is never opened"),
                                         ("--allow-format", "nosuch", "'nosuch' is not an FFmpeg demuxer"),
                                         ("--deny-codec", "nosuch", "'nosuch' is not an FFmpeg decoder")] {
            let refused = try TinyModel.flamingo(["formats", option, value], scratch: scratch)
            XCTAssertEqual(refused.status, 1)
            XCTAssertTrue(refused.stderr.contains(message), refused.stderr)
        }
    }

    /// A denied codec is refused by the reader; the same file reads once it is allowed back.
    func testDenyCodecAppliesToTheReader() throws {
        let dir = scratch.appendingPathComponent("formats-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let clip = dir.appendingPathComponent("clip.wmv")
        try TinyModel.ffmpeg(["-f", "lavfi", "-i", "testsrc2=size=96x64:rate=10", "-t", "2", "-c:v", "wmv2"], output: clip)
        let denied = try TinyModel.flamingo(["frames", clip.path, "--deny-codec", "wmv2"], scratch: dir)
        XCTAssertEqual(denied.status, 1)
        XCTAssertTrue(denied.stderr.contains("\(clip.path): video codec 'wmv2' is not supported"), denied.stderr)
        XCTAssertEqual(try TinyModel.flamingo(["frames", clip.path], scratch: dir).status, 0)
    }
}
