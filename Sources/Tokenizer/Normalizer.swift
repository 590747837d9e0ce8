import Foundation

/// The `normalizer` stage, decoded by its `"type"`.
///
/// Unicode normalization forms come from Foundation. The Rust library normalizes with the
/// `unicode-normalization-alignments` crate, whose tables are Unicode 9.0: a character assigned
/// later has no decomposition, no composition and combining class 0 there. Such characters are
/// therefore kept as they are and normalization runs on the text between them, which gives the
/// same result (a class-0 character that composes with nothing ends every composition and
/// reordering span). `Lowercase` maps each scalar on its own with the full lowercase mapping,
/// as Rust's per-`char` `to_lowercase` in `NormalizedString::lowercase` does (so there is no
/// final-sigma context rule). Characters assigned after Unicode 15.0 (the tables of Rust's
/// standard library at the time) keep their case, as they have no mapping there.
indirect enum Normalizer: Decodable, Sendable {
    case nfc
    case nfd
    case nfkc
    case nfkd
    case lowercase
    case sequence([Normalizer])

    private enum CodingKeys: String, CodingKey {
        case type
        case normalizers
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let type = try container.decode(String.self, forKey: .type)
        switch type {
        case "NFC": self = .nfc
        case "NFD": self = .nfd
        case "NFKC": self = .nfkc
        case "NFKD": self = .nfkd
        case "Lowercase": self = .lowercase
        case "Sequence": self = .sequence(try container.decode([Normalizer].self, forKey: .normalizers))
        default:
            throw TokenizerError.unsupportedType(field: FieldPath.describe(decoder.codingPath), type: type)
        }
    }

    func normalize(_ text: String) -> String {
        switch self {
        case let .sequence(normalizers):
            return normalizers.reduce(text) { $1.normalize($0) }
        case .lowercase:
            return Self.lowercased(text)
        case .nfc, .nfd, .nfkc, .nfkd:
            // Pure ASCII is invariant under all four forms.
            if text.utf8.allSatisfy({ $0 < 0x80 }) { return text }
            var result = ""
            var segmentStart = text.unicodeScalars.startIndex
            var index = segmentStart
            while index < text.unicodeScalars.endIndex {
                let scalar = text.unicodeScalars[index]
                let next = text.unicodeScalars.index(after: index)
                if scalar.value >= 0x80 && !Self.isKnownToRustNormalization(scalar) {
                    result += applyForm(String(text.unicodeScalars[segmentStart..<index]))
                    result.unicodeScalars.append(scalar)
                    segmentStart = next
                }
                index = next
            }
            if segmentStart == text.unicodeScalars.startIndex { return applyForm(text) }
            result += applyForm(String(text.unicodeScalars[segmentStart...]))
            return result
        }
    }

    /// Whether the Rust library's normalization tables (Unicode 9.0) know this character.
    /// Unassigned code points pass through both implementations unchanged.
    private static func isKnownToRustNormalization(_ scalar: Unicode.Scalar) -> Bool {
        let properties = scalar.properties
        return properties.age == nil || UnicodeClassifier.isAssigned(properties, byVersion: 9, 0)
    }

    private func applyForm(_ text: String) -> String {
        if text.isEmpty { return text }
        switch self {
        case .nfc: return text.precomposedStringWithCanonicalMapping
        case .nfd: return text.decomposedStringWithCanonicalMapping
        case .nfkc: return text.precomposedStringWithCompatibilityMapping
        case .nfkd: return text.decomposedStringWithCompatibilityMapping
        case .lowercase, .sequence: return normalize(text)
        }
    }

    private static func lowercased(_ text: String) -> String {
        if text.utf8.allSatisfy({ $0 < 0x80 }) {
            var bytes = Array(text.utf8)
            for index in bytes.indices where bytes[index] >= 0x41 && bytes[index] <= 0x5A {
                bytes[index] += 0x20
            }
            return String(decoding: bytes, as: UTF8.self)
        }
        // (`String.UnicodeScalarView.append(contentsOf:)` is very slow; append to the String.)
        var result = ""
        result.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            if scalar.value < 0x80 {
                result.unicodeScalars.append(scalar.value >= 0x41 && scalar.value <= 0x5A ? Unicode.Scalar(UInt8(scalar.value + 0x20)) : scalar)
            } else if UnicodeClassifier.isKnownToRust(scalar.properties) {
                result += scalar.properties.lowercaseMapping
            } else {
                result.unicodeScalars.append(scalar)
            }
        }
        return result
    }
}
