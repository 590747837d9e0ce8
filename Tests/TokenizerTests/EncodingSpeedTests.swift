import Foundation
import XCTest
@testable import Tokenizer

/// Prints how fast the fixture corpus encodes (no assertion on time). Meaningful in release:
/// `swift test -c release -Xswiftc -enable-testing --filter EncodingSpeedTests`.
final class EncodingSpeedTests: XCTestCase {
    func testEncodingSpeed() throws {
        let corpus = try FixtureFiles.expectations("gpt2style").cases.map(\.text).joined(separator: "\n")
        var oneMegabyte = corpus
        while oneMegabyte.utf8.count < 1 << 20 { oneMegabyte += "\n" + corpus }

        // 1 MiB of pseudo-random words, nearly all distinct, so the word cache rarely helps.
        var generator: UInt64 = 0x9E37_79B9_7F4A_7C15
        var randomWords = ""
        let letters = Array("abcdefghijklmnopqrstuvwxyz")
        while randomWords.utf8.count < 1 << 20 {
            generator = generator &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            let length = Int(generator >> 60) + 2
            for shift in 0..<length { randomWords.append(letters[Int((generator >> UInt64(shift * 4)) % 26)]) }
            randomWords.append(generator & 7 == 0 ? ". " : " ")
        }

        for (label, text) in [("test corpus", corpus), ("corpus repeated to 1 MiB", oneMegabyte), ("1 MiB of random words", randomWords)] {
            // A fresh tokenizer, so the word cache starts empty.
            let tokenizer = try BPETokenizer(contentsOf: FixtureFiles.tokenizerURL("gpt2style"))
            let start = DispatchTime.now().uptimeNanoseconds
            let ids = tokenizer.encode(text)
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            let megabytes = Double(text.utf8.count) / 1_048_576
            print(String(format: "encode %@: %d bytes -> %d ids in %.3f s (%.2f MB/s)",
                         label, text.utf8.count, ids.count, seconds, megabytes / seconds))
            XCTAssertFalse(ids.isEmpty)
        }
    }

    func testLoadingSpeed() throws {
        let start = DispatchTime.now().uptimeNanoseconds
        _ = try BPETokenizer(contentsOf: FixtureFiles.tokenizerURL("gpt2style"))
        print(String(format: "load gpt2style.tokenizer.json: %.3f s", Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9))
    }
}
