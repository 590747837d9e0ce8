import Foundation
import XCTest

/// Locates the fixtures written by `Fixtures/make_tokenizer_fixtures.py` and decodes the
/// expectations it recorded from the Python `tokenizers` library.
enum FixtureFiles {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    static func tokenizerURL(_ name: String) -> URL {
        directory.appendingPathComponent("\(name).tokenizer.json")
    }

    static func expectations(_ name: String) throws -> Expectations {
        let data = try Data(contentsOf: directory.appendingPathComponent("\(name).expected.json"))
        return try JSONDecoder().decode(Expectations.self, from: data)
    }

    /// The contents of `<name>.expected.json`.
    struct Expectations: Decodable {
        struct EncodeCase: Decodable {
            let text: String
            let ids: [Int]
            let decoded: String
        }

        struct DecodeCase: Decodable {
            let ids: [Int]
            let skipSpecialTokens: Bool
            let text: String

            private enum CodingKeys: String, CodingKey {
                case ids, text
                case skipSpecialTokens = "skip_special_tokens"
            }
        }

        let tokenizersVersion: String
        let cases: [EncodeCase]
        let decodeCases: [DecodeCase]

        private enum CodingKeys: String, CodingKey {
            case cases
            case tokenizersVersion = "tokenizers_version"
            case decodeCases = "decode_cases"
        }
    }
}
