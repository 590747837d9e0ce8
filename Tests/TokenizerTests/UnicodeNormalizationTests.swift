import Foundation
import XCTest
@testable import Tokenizer

/// Compares the normalizers, one code point at a time, with the Rust library's output
/// (recorded in Fixtures/unicode_normalization.json).
final class UnicodeNormalizationTests: XCTestCase {
    private struct Mapping: Decodable {
        let codePoint: UInt32
        let output: String

        init(from decoder: any Decoder) throws {
            var container = try decoder.unkeyedContainer()
            codePoint = try container.decode(UInt32.self)
            output = try container.decode(String.self)
        }
    }

    private static let mappings: [String: [Mapping]]? = {
        guard let data = try? Data(contentsOf: FixtureFiles.directory.appendingPathComponent("unicode_normalization.json")) else { return nil }
        struct Document: Decodable {
            let NFC, NFD, NFKC, NFKD, Lowercase: [Mapping]
        }
        guard let document = try? JSONDecoder().decode(Document.self, from: data) else { return nil }
        return ["NFC": document.NFC, "NFD": document.NFD, "NFKC": document.NFKC, "NFKD": document.NFKD, "Lowercase": document.Lowercase]
    }()

    private func compare(_ name: String, _ normalizer: Normalizer) throws {
        let mappings = try XCTUnwrap(Self.mappings?[name])
        var expected: [UInt32: String] = [:]
        for mapping in mappings { expected[mapping.codePoint] = mapping.output }
        // One code point per line, normalized in one call: "\n" is a starter that nothing
        // composes with, so lines do not interact (this is how the fixture was made).
        let scalars = (UInt32(0)..<0x110000).compactMap { value -> Unicode.Scalar? in
            value == 0x0A || (0xAC00...0xD7A3).contains(value) ? nil : Unicode.Scalar(value)
        }
        var joined = String.UnicodeScalarView()
        for (index, scalar) in scalars.enumerated() {
            if index > 0 { joined.append("\n") }
            joined.append(scalar)
        }
        // Split on scalars: as Characters, "\r\n" is a single element.
        let lines = normalizer.normalize(String(joined)).unicodeScalars.split(separator: "\n", omittingEmptySubsequences: false)
        XCTAssertEqual(lines.count, scalars.count)
        var mismatches: [String] = []
        for (scalar, line) in zip(scalars, lines) {
            let input = String(scalar)
            let want = expected[scalar.value] ?? input
            let got = String(String.UnicodeScalarView(line))
            if !sameScalars(got, want) {
                let age = scalar.properties.age.map { "\($0.major).\($0.minor)" } ?? "-"
                mismatches.append(String(format: "U+%04X[%@]:%@→%@", scalar.value, age, scalarDump(want), scalarDump(got)))
            }
        }
        XCTAssertTrue(mismatches.isEmpty, "\(name): \(mismatches.count) code points differ: \(mismatches.prefix(30).joined(separator: " "))")
    }

    func testNFC() throws { try compare("NFC", .nfc) }
    func testNFD() throws { try compare("NFD", .nfd) }
    func testNFKC() throws { try compare("NFKC", .nfkc) }
    func testNFKD() throws { try compare("NFKD", .nfkd) }
    func testLowercase() throws { try compare("Lowercase", .lowercase) }
}
