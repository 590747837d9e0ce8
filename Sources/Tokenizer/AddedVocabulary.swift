/// The added tokens (special or not) and how they are cut out of the input before
/// pre-tokenization — Rust `tokenizer::added_vocabulary::AddedVocabulary` (0.13.3).
struct AddedVocabulary: Sendable {
    /// A piece of input after added tokens are split out.
    enum Segment {
        case text(Substring)
        case token(Int)
    }

    /// `added_tokens_map`: content → id, for the tokens that were not already in the model.
    let idsByContent: [String: Int]
    /// `added_tokens_map_r`: id → the token entry registered last for that id.
    let entriesById: [Int: AddedTokenEntry]
    /// Contents of the special tokens (`special_tokens_set`), compared byte for byte.
    let specialContents: Set<UTF8Key>

    /// Tokens with `normalized: false`, matched on the raw input.
    private let rawMatcher: AddedTokenMatcher
    /// Tokens with `normalized: true`, matched (in their normalized form) on normalized text.
    private let normalizedMatcher: AddedTokenMatcher

    /// Registers the entries as Rust's tokenizer deserialization does: all of them go through one
    /// `add_tokens` call, which gives each token the model's id when the model already has it,
    /// else the next id after the model vocabulary and the tokens added so far. The ids written
    /// in the file are not used (Rust only logs a warning when they differ); for files written
    /// by the library itself they agree.
    init(entries: [AddedTokenEntry], model: BPEModel, normalizer: Normalizer?) {
        var specialContents = Set<UTF8Key>()
        var specialTokens: [AddedTokenEntry] = []
        for entry in entries where entry.special && !entry.content.isEmpty {
            if specialContents.insert(UTF8Key(entry.content)).inserted {
                specialTokens.append(entry)
            }
        }

        var idsByContent: [String: Int] = [:]
        var entriesById: [Int: AddedTokenEntry] = [:]
        var addedTokens: [AddedTokenEntry] = []
        let modelVocabularySize = model.vocab.count
        for entry in entries where !entry.content.isEmpty {
            let id: Int
            if let existing = idsByContent[entry.content] ?? model.vocab[entry.content] {
                id = existing
            } else {
                id = modelVocabularySize + idsByContent.count
                idsByContent[entry.content] = id
                // A non-special token that the model already knows is never matched as an
                // added token: only new ones join `added_tokens`.
                if !specialContents.contains(UTF8Key(entry.content)) {
                    addedTokens.append(entry)
                }
            }
            entriesById[id] = entry
        }

        var raw: [(content: String, id: Int)] = []
        var normalized: [(content: String, id: Int)] = []
        for entry in specialTokens + addedTokens {
            guard let id = idsByContent[entry.content] ?? model.vocab[entry.content] else { continue }
            if entry.normalized {
                normalized.append((normalizer?.normalize(entry.content) ?? entry.content, id))
            } else {
                raw.append((entry.content, id))
            }
        }
        self.idsByContent = idsByContent
        self.entriesById = entriesById
        self.specialContents = specialContents
        rawMatcher = AddedTokenMatcher(patterns: raw)
        normalizedMatcher = AddedTokenMatcher(patterns: normalized)
    }

    /// Rust `extract_and_normalize`: split out the raw tokens, normalize what is left piece by
    /// piece, then split out the normalized tokens. Empty text pieces are dropped.
    func segments(of text: String, normalizer: Normalizer?) -> [Segment] {
        var result: [Segment] = []
        for segment in split(Substring(text), with: rawMatcher) {
            guard case let .text(piece) = segment else {
                result.append(segment)
                continue
            }
            let normalized = normalizer.map { Substring($0.normalize(String(piece))) } ?? piece
            for inner in split(normalized, with: normalizedMatcher) {
                if case let .text(innerPiece) = inner, innerPiece.isEmpty { continue }
                result.append(inner)
            }
        }
        return result
    }

    /// Rust `find_matches` + `split_with_indices` for one matcher.
    private func split(_ sentence: Substring, with matcher: AddedTokenMatcher) -> [Segment] {
        if sentence.isEmpty { return [] }
        if matcher.isEmpty { return [.text(sentence)] }
        var offsets: [(range: Range<Int>, id: Int?)] = []
        UTF8Scanning.withUTF8(of: sentence) { bytes in
            var startOffset = 0
            for match in matcher.matches(in: bytes) {
                var start = match.range.lowerBound
                var stop = match.range.upperBound
                guard let entry = entriesById[match.id] else { continue }
                if entry.singleWord {
                    let startSpace = start == 0 || !Self.endsWithWordCharacter(bytes, before: start)
                    let stopSpace = stop == bytes.count || !Self.startsWithWordCharacter(bytes, at: stop)
                    if !startSpace || !stopSpace { continue }
                }
                if entry.lstrip {
                    // Only take the previous whitespace if it is not part of a previous match.
                    start = max(Self.startOfTrailingWhitespace(bytes, before: start), startOffset)
                }
                if entry.rstrip {
                    stop = Self.endOfLeadingWhitespace(bytes, from: stop)
                }
                if startOffset < start {
                    offsets.append((startOffset..<start, nil))
                }
                // Rust would panic on an inverted range (a whitespace-only token inside an
                // rstrip run); clamp instead.
                offsets.append((min(start, stop)..<stop, match.id))
                startOffset = stop
            }
            if startOffset != bytes.count {
                offsets.append((startOffset..<bytes.count, nil))
            }
        }
        return offsets.compactMap { offset in
            if let id = offset.id { return .token(id) }
            let piece = sentence[UTF8Scanning.index(in: sentence, byteOffset: offset.range.lowerBound)..<UTF8Scanning.index(in: sentence, byteOffset: offset.range.upperBound)]
            return piece.isEmpty ? nil : .text(piece)
        }
    }

    /// The `regex` crate's `\w$` on `bytes[..<index]`.
    private static func endsWithWordCharacter(_ bytes: UnsafeBufferPointer<UInt8>, before index: Int) -> Bool {
        guard index > 0 else { return false }
        let start = UTF8Scanning.previousScalarStart(in: bytes, before: index)
        let value = UTF8Scanning.scalar(in: bytes, at: start).value
        return Unicode.Scalar(value).map(UnicodeClassifier.isWordCharacter) ?? false
    }

    /// The `regex` crate's `^\w` on `bytes[index...]`.
    private static func startsWithWordCharacter(_ bytes: UnsafeBufferPointer<UInt8>, at index: Int) -> Bool {
        guard index < bytes.count else { return false }
        let value = UTF8Scanning.scalar(in: bytes, at: index).value
        return Unicode.Scalar(value).map(UnicodeClassifier.isWordCharacter) ?? false
    }

    /// Where the whitespace run that ends at `index` begins (`\s*$` on `bytes[..<index]`).
    private static func startOfTrailingWhitespace(_ bytes: UnsafeBufferPointer<UInt8>, before index: Int) -> Int {
        var start = index
        while start > 0 {
            let previous = UTF8Scanning.previousScalarStart(in: bytes, before: start)
            let value = UTF8Scanning.scalar(in: bytes, at: previous).value
            guard let scalar = Unicode.Scalar(value), UnicodeClassifier.isWhitespace(scalar) else { break }
            start = previous
        }
        return start
    }

    /// Where the whitespace run that starts at `index` ends (`^\s*` on `bytes[index...]`).
    private static func endOfLeadingWhitespace(_ bytes: UnsafeBufferPointer<UInt8>, from index: Int) -> Int {
        var end = index
        while end < bytes.count {
            let scalar = UTF8Scanning.scalar(in: bytes, at: end)
            guard let value = Unicode.Scalar(scalar.value), UnicodeClassifier.isWhitespace(value) else { break }
            end += scalar.length
        }
        return end
    }
}
