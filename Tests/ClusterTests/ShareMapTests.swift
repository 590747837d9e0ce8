import Cluster
import Foundation
import XCTest

final class ShareMapTests: XCTestCase {
    private var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("shares-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("videos/news/2026"), withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(at: dir.appendingPathComponent("mnt-b"), withDestinationURL: dir.appendingPathComponent("videos"))
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    func testHostsMountingTheShareElsewhereAgreeOnPaths() throws {
        let a = try ShareMap(["archive=\(dir.path)/videos"])
        let b = try ShareMap(["archive=\(dir.path)/mnt-b"])
        let viaA = try XCTUnwrap(a.locate("\(dir.path)/videos/news/2026/clip.mp4"))
        let viaB = try XCTUnwrap(b.locate("\(dir.path)/mnt-b/news/2026/clip.mp4"))
        XCTAssertEqual(viaA.share, "archive")
        XCTAssertEqual(viaA.relative, "news/2026/clip.mp4")
        XCTAssertEqual(viaA.share, viaB.share)
        XCTAssertEqual(viaA.relative, viaB.relative)
        XCTAssertEqual(b.path(share: "archive", relative: "news/2026/clip.mp4"), "\(dir.resolvingSymlinksInPath().path)/videos/news/2026/clip.mp4")
        XCTAssertNil(a.locate("/etc/passwd"))
    }

    func testTheDeepestRootOwnsAPath() throws {
        let shares = try ShareMap(["all=\(dir.path)/videos", "news=\(dir.path)/videos/news"])
        XCTAssertEqual(shares.locate("\(dir.path)/videos/news/2026/a.mp4")?.share, "news")
        XCTAssertEqual(shares.locate("\(dir.path)/videos/b.mp4")?.share, "all")
        XCTAssertEqual(shares.names, ["all", "news"])
    }

    func testRelativePathsFromTheDatabaseCannotEscapeTheRoot() throws {
        let shares = try ShareMap(["s=\(dir.path)/videos"])
        XCTAssertNil(shares.path(share: "s", relative: "../../etc/passwd"))
        XCTAssertNil(shares.path(share: "s", relative: "/etc/passwd"))
        XCTAssertNil(shares.path(share: "other", relative: "a.mp4"))
    }

    func testBadOptionsSayWhatIsWrong() {
        func message(_ options: [String]) -> String {
            do { _ = try ShareMap(options); return "" } catch { return error.localizedDescription }
        }
        XCTAssertTrue(message(["noequals"]).contains("expected NAME=ROOT"))
        XCTAssertTrue(message(["a b=\(dir.path)"]).contains("the name must be"))
        XCTAssertTrue(message(["s=\(dir.path)/missing"]).contains("is not a directory"))
        XCTAssertTrue(message(["s=\(dir.path)/videos", "s=\(dir.path)/mnt-b"]).contains("named twice"))
    }
}
