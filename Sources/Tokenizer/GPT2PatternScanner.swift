/// A hand-written matcher for the GPT-2 pre-tokenization regex that the Rust `ByteLevel`
/// pre-tokenizer runs through Oniguruma:
///
///     's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
///
/// Every character belongs to one of the alternatives, so the matches tile the input; the
/// scanner reports them in order as byte ranges. Alternatives are tried in the regex's order at
/// each position, which the branches below reproduce:
/// - a contraction wins at an apostrophe (case-sensitive, as in the pattern);
/// - one optional U+0020 may lead a run of letters, of numbers, or of "other" characters;
/// - a whitespace run followed by a non-space gives up its last character (`\s+(?!\S)`
///   backtracks by one scalar), so that character can lead the next word; a run of one
///   scalar before a non-space is matched alone by the final `\s+`.
enum GPT2PatternScanner {
    static func forEachMatch(in bytes: UnsafeBufferPointer<UInt8>, _ body: (Range<Int>) -> Void) {
        let count = bytes.count
        var position = 0
        while position < count {
            let end = matchEnd(in: bytes, from: position)
            body(position..<end)
            position = end
        }
    }

    /// The end of the match that starts at `start`.
    @inline(__always)
    private static func matchEnd(in bytes: UnsafeBufferPointer<UInt8>, from start: Int) -> Int {
        let count = bytes.count
        let first = UTF8Scanning.scalar(in: bytes, at: start)

        // 's|'t|'re|'ve|'m|'ll|'d
        if first.value == 0x27, start + 1 < count {
            switch bytes[start + 1] {
            case UInt8(ascii: "s"), UInt8(ascii: "t"), UInt8(ascii: "m"), UInt8(ascii: "d"):
                return start + 2
            case UInt8(ascii: "r"), UInt8(ascii: "v"):
                if start + 2 < count && bytes[start + 2] == UInt8(ascii: "e") { return start + 3 }
            case UInt8(ascii: "l"):
                if start + 2 < count && bytes[start + 2] == UInt8(ascii: "l") { return start + 3 }
            default:
                break
            }
        }

        // ` ?\p{L}+`, ` ?\p{N}+`, ` ?[^\s\p{L}\p{N}]+`
        var runStart = start
        var runClass = UnicodeClassifier.gpt2Class(first.value)
        if first.value == 0x20, start + 1 < count {
            let next = UTF8Scanning.scalar(in: bytes, at: start + 1)
            let nextClass = UnicodeClassifier.gpt2Class(next.value)
            if nextClass != .space {
                runStart = start + 1
                runClass = nextClass
            }
        }
        if runClass != .space {
            return runEnd(in: bytes, from: runStart, of: runClass)
        }

        // `\s+(?!\S)` then `\s+`: here the first character is whitespace.
        let end = runEnd(in: bytes, from: start, of: .space)
        if end == count { return end }
        let lastStart = UTF8Scanning.previousScalarStart(in: bytes, before: end)
        return lastStart > start ? lastStart : end
    }

    /// The end of the maximal run of `runClass` characters starting at `start`.
    @inline(__always)
    private static func runEnd(in bytes: UnsafeBufferPointer<UInt8>, from start: Int, of runClass: UnicodeClassifier.GPT2Class) -> Int {
        let count = bytes.count
        var position = start
        while position < count {
            let scalar = UTF8Scanning.scalar(in: bytes, at: position)
            if UnicodeClassifier.gpt2Class(scalar.value) != runClass { break }
            position += scalar.length
        }
        return position
    }
}
