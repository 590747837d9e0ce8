import Cluster
import Foundation
import XCTest

final class ShardTests: XCTestCase {
    func testEveryFileIsInExactlyOneShardAndShardsAreBalanced() {
        let keys = (0..<4000).map { "archive:2026/\($0 / 100)/clip-\($0).mp4" }
        var counts = [Int](repeating: 0, count: 4)
        for key in keys { counts[Shard.of(key: key, count: 4)] += 1 }
        XCTAssertEqual(counts.reduce(0, +), 4000)
        for count in counts { XCTAssertTrue((850...1150).contains(count), "\(counts)") }
        // Deterministic: the same key, the same shard, on every host and run.
        XCTAssertEqual(keys.map { Shard.of(key: $0, count: 4) }, keys.map { Shard.of(key: $0, count: 4) })
        XCTAssertEqual(Shard.of(key: "anything", count: 1), 0)
    }

    func testParsing() {
        XCTAssertEqual(Shard("0/4"), Shard(index: 0, count: 4))
        XCTAssertEqual(Shard("3/4"), Shard(index: 3, count: 4))
        for bad in ["4/4", "-1/4", "1/0", "1", "a/b", "1/2/3", ""] { XCTAssertNil(Shard(bad), bad) }
    }
}
