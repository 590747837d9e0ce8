/// The `decoder` stage, decoded by its `"type"`. Each case mirrors the Rust decoder's
/// `decode_chain` (tokens in, tokens out); the tokenizer joins the final list with "".
indirect enum TokenDecoder: Decodable, Sendable {
    /// Maps every token back through the byte-level alphabet and decodes all the bytes at once
    /// as lossy UTF-8, into a single string. A token with a character outside the alphabet
    /// (an added token such as " <x>") contributes its own UTF-8 bytes.
    case byteLevel
    /// Turns runs of `<0xXX>` tokens into the string they encode; a run that is not valid
    /// UTF-8 becomes one U+FFFD per byte.
    case byteFallback
    /// Joins all tokens into one.
    case fuse
    /// Removes up to `start` leading and `stop` trailing `content` characters from each token.
    case strip(content: Unicode.Scalar, start: Int, stop: Int)
    /// Replaces every match of `pattern` in each token with `content`.
    case replace(pattern: TextPattern, content: String)
    case sequence([TokenDecoder])

    private enum CodingKeys: String, CodingKey {
        case type, decoders, content, start, stop, pattern
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let type = try container.decode(String.self, forKey: .type)
        switch type {
        case "ByteLevel":
            self = .byteLevel
        case "ByteFallback":
            self = .byteFallback
        case "Fuse":
            self = .fuse
        case "Strip":
            let content = try container.decode(String.self, forKey: .content)
            var scalars = content.unicodeScalars.makeIterator()
            guard let scalar = scalars.next(), scalars.next() == nil else {
                throw TokenizerError.invalidValue(
                    field: FieldPath.describe(decoder.codingPath, CodingKeys.content),
                    reason: "Strip content must be a single character, found '\(content)'")
            }
            let start = try container.decode(Int.self, forKey: .start)
            let stop = try container.decode(Int.self, forKey: .stop)
            guard start >= 0, stop >= 0 else {
                throw TokenizerError.invalidValue(field: FieldPath.describe(decoder.codingPath), reason: "Strip start/stop must not be negative")
            }
            self = .strip(content: scalar, start: start, stop: stop)
        case "Replace":
            self = .replace(
                pattern: try container.decode(TextPattern.self, forKey: .pattern),
                content: try container.decode(String.self, forKey: .content))
        case "Sequence":
            self = .sequence(try container.decode([TokenDecoder].self, forKey: .decoders))
        default:
            throw TokenizerError.unsupportedType(field: FieldPath.describe(decoder.codingPath), type: type)
        }
    }

    func decodeChain(_ tokens: [String]) -> [String] {
        switch self {
        case .byteLevel:
            var bytes: [UInt8] = []
            for token in tokens {
                if let decoded = ByteLevelAlphabet.decode(token) {
                    bytes.append(contentsOf: decoded)
                } else {
                    bytes.append(contentsOf: token.utf8)
                }
            }
            // Like Rust's `String::from_utf8_lossy`, Swift replaces each maximal invalid
            // subsequence with one U+FFFD.
            return [String(decoding: bytes, as: UTF8.self)]
        case .byteFallback:
            return Self.byteFallback(tokens)
        case .fuse:
            return [tokens.joined()]
        case let .strip(content, start, stop):
            return tokens.map { Self.strip($0, content: content, start: start, stop: stop) }
        case let .replace(pattern, content):
            return tokens.map { token in
                var result = ""
                var previous = token.startIndex
                for match in pattern.matches(in: token) {
                    result += token[previous..<match.lowerBound]
                    result += content
                    previous = match.upperBound
                }
                result += token[previous...]
                return result
            }
        case let .sequence(decoders):
            return decoders.reduce(tokens) { $1.decodeChain($0) }
        }
    }

    private static func byteFallback(_ tokens: [String]) -> [String] {
        var result: [String] = []
        var pendingBytes: [UInt8] = []
        func flush() {
            guard !pendingBytes.isEmpty else { return }
            if let text = String(validating: pendingBytes, as: UTF8.self) {
                result.append(text)
            } else {
                result.append(contentsOf: repeatElement("\u{FFFD}", count: pendingBytes.count))
            }
            pendingBytes.removeAll()
        }
        for token in tokens {
            if let byte = fallbackByte(token) {
                pendingBytes.append(byte)
            } else {
                flush()
                result.append(token)
            }
        }
        flush()
        return result
    }

    /// The byte of a `<0xXX>` token: six bytes long, `<0x` prefix, `>` suffix, and two
    /// characters that `u8::from_str_radix(_, 16)` accepts.
    private static func fallbackByte(_ token: String) -> UInt8? {
        let bytes = Array(token.utf8)
        guard bytes.count == 6, bytes[0] == UInt8(ascii: "<"), bytes[1] == UInt8(ascii: "0"),
              bytes[2] == UInt8(ascii: "x"), bytes[5] == UInt8(ascii: ">") else { return nil }
        let digits = String(decoding: bytes[3..<5], as: UTF8.self)
        // Both accept a leading '+' ("<0x+A>"); Swift would also take "-0", Rust does not.
        guard !digits.hasPrefix("-") else { return nil }
        return UInt8(digits, radix: 16)
    }

    private static func strip(_ token: String, content: Unicode.Scalar, start: Int, stop: Int) -> String {
        let scalars = Array(token.unicodeScalars)
        var startCut = 0
        for (index, scalar) in scalars.enumerated().prefix(start) {
            guard scalar == content else { break }
            startCut = index + 1
        }
        var stopCut = scalars.count
        for offset in 0..<min(stop, scalars.count) {
            let index = scalars.count - offset - 1
            guard scalars[index] == content else { break }
            stopCut = index
        }
        // Rust would panic when the cuts cross (e.g. a token made only of `content`); keep
        // the result empty instead.
        guard startCut < stopCut else { return "" }
        return String(String.UnicodeScalarView(scalars[startCut..<stopCut]))
    }
}
