/// The character classes that the regex engines and `char` methods used by the Rust
/// `tokenizers` library (0.13.3) see, computed from Swift's Unicode tables.
///
/// Which engine a stage uses decides the class definitions:
/// - the GPT-2 pattern of `ByteLevel` and the `Split`/`Replace` patterns run on Oniguruma
///   (`SysRegex`), whose Unicode `\p{L}`, `\p{N}` are general categories and whose `\s` is
///   U+0009–U+000D, U+0085 and Z* (that is, the White_Space property);
/// - `Whitespace` and the added-token `single_word`/`lstrip`/`rstrip` checks use the `regex`
///   crate, whose `\w` is Alphabetic ∪ Mark ∪ Decimal_Number ∪ Connector_Punctuation ∪
///   Join_Control and whose `\s` is White_Space;
/// - `WhitespaceSplit` and `Digits` use `char::is_whitespace` (White_Space) and
///   `char::is_numeric` (Nd ∪ Nl ∪ No).
///
/// The Rust library's tables are older than Swift's: Oniguruma 6.9.8 has Unicode 14.0, Rust's
/// standard library and the `regex` crate of that release have Unicode 15.0. Characters assigned
/// later are unassigned (category Cn) there, so they are treated as such here.
///
/// `Tests/TokenizerTests/Fixtures/unicode_classes.json` records these classes as the Rust
/// library computes them, and a test compares every code point.
enum UnicodeClassifier {
    /// Whether `properties` belong to a character that Unicode `major.minor` had already assigned.
    @inline(__always)
    static func isAssigned(_ properties: Unicode.Scalar.Properties, byVersion major: Int, _ minor: Int) -> Bool {
        guard let age = properties.age else { return false }
        return age.major < major || (age.major == major && age.minor <= minor)
    }

    /// Same as `isAssigned(_:byVersion:)` for Rust std / `regex` crate tables (Unicode 15.0).
    @inline(__always)
    static func isKnownToRust(_ properties: Unicode.Scalar.Properties) -> Bool {
        isAssigned(properties, byVersion: 15, 0)
    }

    /// The three classes of the GPT-2 pre-tokenization pattern, plus everything else.
    enum GPT2Class: UInt8 {
        case letter, number, space, other
    }

    @inline(__always)
    static func gpt2Class(_ value: UInt32) -> GPT2Class {
        if value < 0x80 {
            switch value {
            case 0x41...0x5A, 0x61...0x7A: return .letter
            case 0x30...0x39: return .number
            case 0x09...0x0D, 0x20: return .space
            default: return .other
            }
        }
        guard let scalar = Unicode.Scalar(value) else { return .other }
        let properties = scalar.properties
        if properties.isWhitespace { return .space }
        let gpt2Class: GPT2Class
        switch properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter:
            gpt2Class = .letter
        case .decimalNumber, .letterNumber, .otherNumber:
            gpt2Class = .number
        default:
            return .other
        }
        // Oniguruma 6.9.8: Unicode 14.0.
        return isAssigned(properties, byVersion: 14, 0) ? gpt2Class : .other
    }

    /// Rust `char::is_whitespace` and the `regex` crate's `\s`: the White_Space property.
    @inline(__always)
    static func isWhitespace(_ scalar: Unicode.Scalar) -> Bool {
        if scalar.value < 0x80 {
            return scalar.value == 0x20 || (0x09...0x0D).contains(scalar.value)
        }
        return scalar.properties.isWhitespace
    }

    /// Rust `char::is_numeric`: general category Nd, Nl or No.
    @inline(__always)
    static func isNumeric(_ scalar: Unicode.Scalar) -> Bool {
        if scalar.value < 0x80 {
            return (0x30...0x39).contains(scalar.value)
        }
        let properties = scalar.properties
        switch properties.generalCategory {
        case .decimalNumber, .letterNumber, .otherNumber: return isKnownToRust(properties)
        default: return false
        }
    }

    /// The `regex` crate's Unicode `\w`.
    @inline(__always)
    static func isWordCharacter(_ scalar: Unicode.Scalar) -> Bool {
        if scalar.value < 0x80 {
            switch scalar.value {
            case 0x30...0x39, 0x41...0x5A, 0x61...0x7A, 0x5F: return true
            default: return false
            }
        }
        let properties = scalar.properties
        if properties.isJoinControl { return true }
        if properties.isAlphabetic { return isKnownToRust(properties) }
        switch properties.generalCategory {
        case .nonspacingMark, .spacingMark, .enclosingMark, .decimalNumber, .connectorPunctuation:
            return isKnownToRust(properties)
        default:
            return false
        }
    }
}
