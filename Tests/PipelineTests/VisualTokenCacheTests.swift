import Foundation
import XCTest
@testable import Pipeline

/// The visual token cache keeps float32 entries exactly and drops the least recently used ones first.
final class VisualTokenCacheTests: XCTestCase {
    func testEntriesRoundTripAndTheLeastRecentlyUsedGoFirst() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("vtc-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let width = 16, latents = (0..<(4 * width)).map { Float($0) * 0.37 - 3 }
        // About 400 bytes per entry: room for two.
        let cache = VisualTokenCache(directory: dir, maxBytes: 900)
        cache.store("a", .init(latents: latents, frames: 3, domainScore: 1.5), width: width)
        let a = try XCTUnwrap(cache.load("a", width: width))
        XCTAssertEqual(a.latents, latents)
        XCTAssertEqual(a.frames, 3)
        XCTAssertEqual(a.domainScore, 1.5)
        XCTAssertNil(cache.load("a", width: width + 1), "another width is a miss")
        try FileManager.default.setAttributes([.modificationDate: Date().addingTimeInterval(-100)],
                                              ofItemAtPath: dir.appendingPathComponent("a.safetensors").path)
        cache.store("b", .init(latents: latents, frames: 3, domainScore: nil), width: width)
        try FileManager.default.setAttributes([.modificationDate: Date().addingTimeInterval(-50)],
                                              ofItemAtPath: dir.appendingPathComponent("b.safetensors").path)
        _ = cache.load("a", width: width)  // a is now the most recently used
        cache.store("c", .init(latents: latents, frames: 3, domainScore: nil), width: width)
        XCTAssertNotNil(cache.load("a", width: width))
        XCTAssertNil(cache.load("b", width: width), "the least recently used entry was dropped")
        XCTAssertNotNil(cache.load("c", width: width))
        XCTAssertNil(cache.load("c", width: width)?.domainScore)
    }
}
