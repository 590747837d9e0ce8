/// The `ByteLevel` pre-tokenizer: optionally prepends a space, splits with the GPT-2 pattern
/// (unless `use_regex` is false), and then rewrites every piece into the byte-level alphabet.
///
/// The rewrite is left to the caller (see `PreTokenizerPipeline`), so that the common case of
/// a lone `ByteLevel` stage can hand raw UTF-8 words straight to the BPE model.
struct ByteLevelPreTokenizer: Decodable, Sendable {
    let addPrefixSpace: Bool
    let useRegex: Bool

    private enum CodingKeys: String, CodingKey {
        case addPrefixSpace = "add_prefix_space"
        case useRegex = "use_regex"
    }

    init(addPrefixSpace: Bool, useRegex: Bool) {
        self.addPrefixSpace = addPrefixSpace
        self.useRegex = useRegex
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        // Rust defaults: add_prefix_space true, use_regex true (serde default for files that
        // predate the option).
        addPrefixSpace = try container.decodeIfPresent(Bool.self, forKey: .addPrefixSpace) ?? true
        useRegex = try container.decodeIfPresent(Bool.self, forKey: .useRegex) ?? true
    }

    /// Rust: `if add_prefix_space && !normalized.get().starts_with(' ') { prepend(" ") }`.
    private func prefixed(_ piece: Substring) -> Substring {
        guard addPrefixSpace && piece.utf8.first != 0x20 else { return piece }
        var text = " "
        text.append(contentsOf: piece)
        return Substring(text)
    }

    /// Calls `body` with the UTF-8 bytes of each word of `piece` (before the byte-level rewrite).
    func forEachWord(in piece: Substring, _ body: (UnsafeBufferPointer<UInt8>) -> Void) {
        let text: Substring = prefixed(piece)
        UTF8Scanning.withUTF8(of: text) { bytes in
            if useRegex {
                GPT2PatternScanner.forEachMatch(in: bytes) { range in
                    body(UnsafeBufferPointer(rebasing: bytes[range]))
                }
            } else if !bytes.isEmpty {
                body(bytes)
            }
        }
    }

    /// The words of `piece` as substrings (before the byte-level rewrite).
    func split(_ piece: Substring) -> [Substring] {
        let text: Substring = prefixed(piece)
        guard useRegex else { return text.isEmpty ? [] : [text] }
        var ranges: [Range<Int>] = []
        UTF8Scanning.withUTF8(of: text) { bytes in
            GPT2PatternScanner.forEachMatch(in: bytes) { ranges.append($0) }
        }
        return ranges.map {
            text[UTF8Scanning.index(in: text, byteOffset: $0.lowerBound)..<UTF8Scanning.index(in: text, byteOffset: $0.upperBound)]
        }
    }
}
