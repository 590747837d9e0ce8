import Foundation

/// The `pattern` of a `Split` pre-tokenizer or a `Replace` decoder: `{"String": "..."}` (a
/// literal) or `{"Regex": "..."}` (an Oniguruma regex in the Rust library).
///
/// Regexes run on `NSRegularExpression` (ICU) after `icuPattern(fromOniguruma:)` rewrites the
/// few escapes whose meaning differs between the two engines.
struct TextPattern: Decodable, Sendable {
    private enum Matcher: Sendable {
        case literal([UInt8])
        case regex(NSRegularExpression)
    }

    /// The pattern as written in tokenizer.json.
    let source: String
    private let matcher: Matcher

    private enum CodingKeys: String, CodingKey {
        case string = "String"
        case regex = "Regex"
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        if let literal = try container.decodeIfPresent(String.self, forKey: .string) {
            source = literal
            matcher = .literal(Array(literal.utf8))
        } else if let pattern = try container.decodeIfPresent(String.self, forKey: .regex) {
            source = pattern
            matcher = .regex(try Self.compile(pattern, field: FieldPath.describe(decoder.codingPath)))
        } else {
            throw TokenizerError.invalidValue(
                field: FieldPath.describe(decoder.codingPath),
                reason: "expected an object with a \"String\" or a \"Regex\" key")
        }
    }

    init(regex pattern: String, field: String) throws {
        source = pattern
        matcher = .regex(try Self.compile(pattern, field: field))
    }

    private static func compile(_ pattern: String, field: String) throws -> NSRegularExpression {
        do {
            // Oniguruma (Ruby syntax) anchors `^`/`$` at every line and ends lines at "\n" only.
            return try NSRegularExpression(
                pattern: icuPattern(fromOniguruma: pattern),
                options: [.anchorsMatchLines, .useUnixLineSeparators])
        } catch {
            throw TokenizerError.invalidRegex(field: field, pattern: pattern, reason: error.localizedDescription)
        }
    }

    /// The ranges of `text` that the pattern matches: leftmost, non-overlapping, in order.
    func matches(in text: String) -> [Range<String.Index>] {
        switch matcher {
        case let .literal(needle):
            return Self.literalMatches(of: needle, in: text)
        case let .regex(regex):
            let results = regex.matches(in: text, options: [], range: NSRange(location: 0, length: text.utf16.count))
            // Results come in order, so walk one UTF-16 cursor forward instead of converting
            // each NSRange from the start of the string.
            var ranges: [Range<String.Index>] = []
            ranges.reserveCapacity(results.count)
            let utf16 = text.utf16
            var cursor = utf16.startIndex
            var cursorOffset = 0
            for result in results {
                let range = result.range
                guard range.location != NSNotFound else { continue }
                let lower = utf16.index(cursor, offsetBy: range.location - cursorOffset)
                let upper = utf16.index(lower, offsetBy: range.length)
                cursor = upper
                cursorOffset = range.location + range.length
                ranges.append(lower..<upper)
            }
            return ranges
        }
    }

    private static func literalMatches(of needle: [UInt8], in text: String) -> [Range<String.Index>] {
        // Rust escapes the literal into a regex; an empty one would match everywhere, which
        // no tokenizer relies on, so it matches nothing here.
        guard !needle.isEmpty else { return [] }
        let text = Substring(text)
        var offsets: [Range<Int>] = []
        UTF8Scanning.withUTF8(of: text) { haystack in
            var position = 0
            let last = haystack.count - needle.count
            while position <= last {
                var equal = true
                for k in 0..<needle.count where haystack[position + k] != needle[k] {
                    equal = false
                    break
                }
                if equal {
                    offsets.append(position..<(position + needle.count))
                    position += needle.count
                } else {
                    position += 1
                }
            }
        }
        return offsets.map {
            UTF8Scanning.index(in: text, byteOffset: $0.lowerBound)..<UTF8Scanning.index(in: text, byteOffset: $0.upperBound)
        }
    }

    /// Rewrites an Oniguruma pattern (Ruby syntax, Unicode 14.0 tables) for ICU:
    /// - `\s` also covers U+000B and U+0085 in Oniguruma: spelled out as a set;
    /// - `\w` is Letter|Mark|Number|Connector_Punctuation in Oniguruma (ICU: Alphabetic,
    ///   Mark, Decimal_Number, …) and `\h` is a hex digit (ICU: horizontal space): spelled out;
    /// - `\p{…}`, `\P{…}`, `\p{^…}`, `\d`, `\w` are intersected with `\p{Age=14.0}`, so
    ///   characters that ICU's newer tables assign but Oniguruma's do not are left out, as there.
    /// Negated forms become nested negated sets, which ICU accepts inside brackets too.
    static func icuPattern(fromOniguruma pattern: String) -> String {
        let age = #"\p{Age=14.0}"#
        let space = #"\t\n\x{0B}\f\r\x{85}\p{Z}"#
        let word = "[[\\p{L}\\p{M}\\p{N}\\p{Pc}]&&\(age)]"
        let digit = "[\\p{Nd}&&\(age)]"
        let hex = "0-9a-fA-F"
        let scalars = Array(pattern.unicodeScalars)
        var output = ""
        var classDepth = 0
        var index = 0
        func append(_ text: String) { output += text }
        while index < scalars.count {
            let scalar = scalars[index]
            if scalar == "\\" && index + 1 < scalars.count {
                let escaped = scalars[index + 1]
                index += 2
                switch escaped {
                case "s": append(classDepth > 0 ? space : "[\(space)]")
                case "S": append("[^\(space)]")
                case "w": append(word)
                case "W": append("[^\(word)]")
                case "d": append(digit)
                case "D": append("[^\(digit)]")
                case "h": append(classDepth > 0 ? hex : "[\(hex)]")
                case "H": append("[^\(hex)]")
                case "p", "P":
                    // \p{Name}, \p{^Name} or the one-letter \pL.
                    var name: String
                    if index < scalars.count && scalars[index] == "{" {
                        guard let close = scalars[index...].firstIndex(of: "}") else {
                            append("\\\(escaped)")  // let ICU report the syntax error
                            continue
                        }
                        name = String(String.UnicodeScalarView(scalars[(index + 1)..<close]))
                        index = close + 1
                    } else if index < scalars.count {
                        name = String(scalars[index])
                        index += 1
                    } else {
                        append("\\\(escaped)")
                        continue
                    }
                    var negated = escaped == "P"
                    if name.hasPrefix("^") {
                        negated.toggle()
                        name.removeFirst()
                    }
                    let gated = "[\\p{\(name)}&&\(age)]"
                    append(negated ? "[^\(gated)]" : gated)
                default:
                    output.unicodeScalars.append(scalar)
                    output.unicodeScalars.append(escaped)
                }
                continue
            }
            if scalar == "[" {
                classDepth += 1
            } else if scalar == "]" && classDepth > 0 {
                classDepth -= 1
            }
            output.unicodeScalars.append(scalar)
            index += 1
        }
        return output
    }
}
