import Foundation
import Synchronization
import XCTest
@testable import Tokenizer

/// Every string of the fixtures must encode to the ids, and decode to the text, that the
/// Python `tokenizers` library produced.
final class FixtureParityTests: XCTestCase {
    func testGPT2StyleTokenizerMatchesHuggingFace() throws {
        try assertParity(with: "gpt2style")
    }

    func testVariantTokenizerMatchesHuggingFace() throws {
        try assertParity(with: "variant")
    }

    func testCharacterLevelTokenizerMatchesHuggingFace() throws {
        try assertParity(with: "charlevel")
    }

    /// With the normalizer removed, decode(encode(s)) gives back s exactly.
    func testByteLevelRoundTripWithoutNormalizer() throws {
        var json = try JSONSerialization.jsonObject(with: Data(contentsOf: FixtureFiles.tokenizerURL("gpt2style"))) as? [String: Any] ?? [:]
        json["normalizer"] = NSNull()
        let tokenizer = try BPETokenizer(data: JSONSerialization.data(withJSONObject: json))
        let expectations = try FixtureFiles.expectations("gpt2style")
        var failures = 0
        for testCase in expectations.cases {
            let decoded = tokenizer.decode(tokenizer.encode(testCase.text))
            if !sameScalars(decoded, testCase.text) {
                failures += 1
                if failures <= 5 { XCTFail("round trip of \(scalarDump(testCase.text)) gave \(scalarDump(decoded))") }
            }
        }
        XCTAssertEqual(failures, 0)
    }

    /// The tokenizer is shared across threads (Sendable, lock-protected cache).
    func testConcurrentEncodingGivesTheSameIds() throws {
        let tokenizer = try BPETokenizer(contentsOf: FixtureFiles.tokenizerURL("gpt2style"))
        let cases = try FixtureFiles.expectations("gpt2style").cases
        let chunks = 8
        let failures = Mutex(0)
        DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
            for index in stride(from: chunk, to: cases.count, by: chunks) where tokenizer.encode(cases[index].text) != cases[index].ids {
                failures.withLock { $0 += 1 }
            }
        }
        XCTAssertEqual(failures.withLock { $0 }, 0)
    }

    private func assertParity(with name: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let tokenizer = try BPETokenizer(contentsOf: FixtureFiles.tokenizerURL(name))
        let expectations = try FixtureFiles.expectations(name)
        XCTAssertEqual(expectations.tokenizersVersion, "0.13.3", file: file, line: line)
        XCTAssertGreaterThan(expectations.cases.count, 500, file: file, line: line)

        var idFailures = 0
        var decodeFailures = 0
        for testCase in expectations.cases {
            let ids = tokenizer.encode(testCase.text)
            if ids != testCase.ids {
                idFailures += 1
                if idFailures <= 10 {
                    XCTFail("\(name): ids differ for \(scalarDump(testCase.text))\n  expected \(testCase.ids)\n  got      \(ids)", file: file, line: line)
                }
            }
            let decoded = tokenizer.decode(testCase.ids)
            if !sameScalars(decoded, testCase.decoded) {
                decodeFailures += 1
                if decodeFailures <= 10 {
                    XCTFail("\(name): decode differs for \(testCase.ids)\n  expected \(scalarDump(testCase.decoded))\n  got      \(scalarDump(decoded))", file: file, line: line)
                }
            }
        }
        for testCase in expectations.decodeCases {
            let decoded = tokenizer.decode(testCase.ids, skipSpecialTokens: testCase.skipSpecialTokens)
            if !sameScalars(decoded, testCase.text) {
                decodeFailures += 1
                if decodeFailures <= 10 {
                    XCTFail("\(name): decode(skipSpecialTokens: \(testCase.skipSpecialTokens)) differs for \(testCase.ids)\n  expected \(scalarDump(testCase.text))\n  got      \(scalarDump(decoded))", file: file, line: line)
                }
            }
        }
        XCTAssertEqual(idFailures, 0, "\(name): strings with different ids", file: file, line: line)
        XCTAssertEqual(decodeFailures, 0, "\(name): different decodes", file: file, line: line)
        print("\(name): \(expectations.cases.count) strings and \(expectations.decodeCases.count) decode cases checked, \(idFailures) id and \(decodeFailures) decode mismatches")
    }
}
