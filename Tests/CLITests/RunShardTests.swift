import Foundation
import XCTest

/// `flamingo run --shard I/N DIR`: N runs cover a directory's videos exactly once, by share-relative
/// path (the same split wherever the share is mounted), and --skip-done makes a rerun cheap.
final class RunShardTests: XCTestCase {
    private var dir: URL!
    private var model: URL!
    private var archive: URL!
    private var pipeline: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("shard-\(UUID().uuidString)")
        model = try TinyModel.make(in: dir)
        archive = dir.appendingPathComponent("archive")
        try FileManager.default.createDirectory(at: archive.appendingPathComponent("2026/12"), withIntermediateDirectories: true)
        let clip = dir.appendingPathComponent("clip.mp4")
        try TinyModel.ffmpeg(["-f", "lavfi", "-i", "testsrc2=size=64x48:rate=10", "-t", "1", "-c:v", "libx264"], output: clip)
        let data = try Data(contentsOf: clip)
        for i in 0..<12 { try data.write(to: archive.appendingPathComponent(i < 6 ? "c\(i).mp4" : "2026/12/c\(i).mp4")) }
        try Data("notes".utf8).write(to: archive.appendingPathComponent("notes.txt"))
        try FileManager.default.createSymbolicLink(at: dir.appendingPathComponent("other-mount"), withDestinationURL: archive)
        pipeline = dir.appendingPathComponent("p.yaml")
        try "name: t\ndecoding: {beams: 1, max_tokens: 2}\ntasks:\n  - caption: {}\n".write(to: pipeline, atomically: true, encoding: .utf8)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    private func shard(_ index: Int, of count: Int, root: URL, extra: [String] = []) throws -> [String] {
        let result = try TinyModel.flamingo(["run", root.path, "--shard", "\(index)/\(count)", "--share", "archive=\(root.path)",
                                             "--pipeline", pipeline.path, "--model", model.path, "--stdout"] + extra, scratch: dir)
        XCTAssertEqual(result.status, 0, result.stderr)
        guard !result.stdout.isEmpty, let json = try? JSONSerialization.jsonObject(with: result.stdout) else { return [] }
        let sidecars = (json as? [[String: Any]]) ?? [json as? [String: Any]].compactMap { $0 }
        return sidecars.compactMap { ($0["video"] as? [String: Any])?["file"] as? String }.sorted()
    }

    func testShardsCoverTheArchiveOnceWhereverItIsMounted() throws {
        var seen: [String] = []
        var perShard: [[String]] = []
        for index in 0..<3 {
            let files = try shard(index, of: 3, root: archive)
            perShard.append(files)
            seen += files
            XCTAssertEqual(try shard(index, of: 3, root: dir.appendingPathComponent("other-mount")), files,
                           "the same shard through another mount point")
        }
        XCTAssertEqual(seen.sorted(), (0..<12).map { "c\($0).mp4" }.sorted(), "every video once, the .txt file never")
        XCTAssertTrue(perShard.filter { !$0.isEmpty }.count >= 2, "\(perShard)")
        let bad = try TinyModel.flamingo(["run", archive.path, "--shard", "3/3", "--model", model.path], scratch: dir)
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertTrue(bad.stderr.contains("--shard must be I/N"), bad.stderr)
    }

    func testSkipDoneLeavesFinishedVideosAlone() throws {
        let run = { try TinyModel.flamingo(["run", self.archive.path, "--skip-done", "--pipeline", self.pipeline.path,
                                            "--model", self.model.path], scratch: self.dir) }
        XCTAssertEqual(try run().status, 0)
        let sidecar = archive.appendingPathComponent("c0.mp4.flamingo.json")
        let first = try Data(contentsOf: sidecar)
        let touched = archive.appendingPathComponent("c1.mp4")
        try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSinceNow: -30)], ofItemAtPath: touched.path)
        let firstTouched = try Data(contentsOf: archive.appendingPathComponent("c1.mp4.flamingo.json"))
        Thread.sleep(forTimeInterval: 1.1)
        XCTAssertEqual(try run().status, 0)
        XCTAssertEqual(try Data(contentsOf: sidecar), first, "an up-to-date sidecar is not rewritten")
        XCTAssertNotEqual(try Data(contentsOf: archive.appendingPathComponent("c1.mp4.flamingo.json")), firstTouched, "a changed video is redone")
    }
}
