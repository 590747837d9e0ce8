import Foundation
import Search
import XCTest

/// The embedded search over a directory's sidecars (SQLite FTS5): words, prefixes, stems, AND, the
/// segments that match, and an index that follows the directory as sidecars come, change and go.
final class SidecarIndexTests: XCTestCase {
    private var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("search-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("day2"), withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: dir.path)
        try? FileManager.default.removeItem(at: dir)
    }

    private func sidecar(_ video: String, caption: String, segments: [(Double, Double, String)] = [],
                         answers: [(String, String)] = [], status: String = "ok", generator: String = "flamingo") throws {
        let object: [String: Any] = [
            "schema_version": 1, "generator": generator, "status": status, "created_at": "2026-12-07T00:00:00Z",
            "video": ["file": (video as NSString).lastPathComponent, "fingerprint": ["size": 1, "mtime_ns": 1, "inode": 1]],
            "model": ["name": "m", "hash": "h"], "pipeline": ["name": "p", "hash": "h"],
            "caption": ["text": caption, "logprob": -1.0],
            "segments": segments.map { ["start_s": $0.0, "end_s": $0.1, "caption": ["text": $0.2, "logprob": -1.0]] },
            "answers": answers.map { ["question": $0.0, "answer": $0.1, "logprob": -0.5] },
        ]
        try JSONSerialization.data(withJSONObject: object).write(to: dir.appendingPathComponent(video + ".flamingo.json"))
    }

    private func paths(_ hits: [SearchHit]) -> [String] { hits.map { ($0.path as NSString).lastPathComponent }.sorted() }

    func testWordsPrefixesStemsAndSegments() throws {
        try sidecar("a.mp4", caption: "a red square moving right and a green circle standing still.",
                    segments: [(0, 10, "a red square moving right."), (10, 20, "a green circle standing still.")])
        try sidecar("day2/b.mp4", caption: "two blue triangles moving up.", answers: [("what color is the circle?", "yellow")])
        try sidecar("c.mp4", caption: "a red circle.", status: "error")
        try sidecar("d.mp4", caption: "a red square.", generator: "someone-else")
        let index = try SidecarIndex(directory: dir.path)
        XCTAssertEqual(try index.refresh(), 4)
        XCTAssertEqual(paths(try index.search("square")), ["a.mp4"], "errors and foreign files are not found")
        XCTAssertEqual(paths(try index.search("SQUARES")), ["a.mp4"], "stems and case")
        XCTAssertEqual(paths(try index.search("triang")), ["b.mp4"], "prefix")
        XCTAssertEqual(paths(try index.search("yellow")), ["b.mp4"], "answers are searchable")
        XCTAssertEqual(paths(try index.search("red square")), ["a.mp4"])
        XCTAssertEqual(paths(try index.search("red triangles")), [], "every word must match")
        let hit = try XCTUnwrap(try index.search("green circle").first)
        XCTAssertEqual(hit.caption, "a red square moving right and a green circle standing still.")
        XCTAssertEqual(hit.segments.map(\.startS), [10], "only the segment that holds the words")
        XCTAssertThrowsError(try index.search(" ?! ")) { XCTAssertEqual($0 as? SearchError, .emptyQuery(" ?! ")) }
    }

    func testTheIndexFollowsTheDirectory() throws {
        try sidecar("a.mp4", caption: "a red square.")
        try sidecar("b.mp4", caption: "a blue circle.")
        let index = try SidecarIndex(directory: dir.path)
        try index.refresh()
        XCTAssertEqual(paths(try index.search("circle")), ["b.mp4"])
        try FileManager.default.removeItem(at: dir.appendingPathComponent("b.mp4.flamingo.json"))
        try sidecar("a.mp4", caption: "a yellow circle.")
        XCTAssertEqual(try index.refresh(), 1, "only the changed sidecar is read again")
        XCTAssertEqual(paths(try index.search("circle")), ["a.mp4"])
        XCTAssertEqual(paths(try index.search("square")), [])
        XCTAssertEqual(try index.refresh(), 0)
        // A second opening reads the stored index.
        XCTAssertEqual(paths(try SidecarIndex(directory: dir.path).search("yellow")), ["a.mp4"])
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir.appendingPathComponent(SidecarIndex.fileName).path))
    }

    func testAReadOnlyDirectoryIsIndexedInMemory() throws {
        guard getuid() != 0 else { throw XCTSkip("root writes anywhere") }
        try sidecar("a.mp4", caption: "a red square.")
        try FileManager.default.setAttributes([.posixPermissions: 0o555], ofItemAtPath: dir.path)
        let index = try SidecarIndex(directory: dir.path)
        try index.refresh()
        XCTAssertEqual(paths(try index.search("square")), ["a.mp4"])
    }
}
