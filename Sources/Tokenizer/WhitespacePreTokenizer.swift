/// The `Whitespace` pre-tokenizer: the Rust library keeps the matches of `\w+|[^\w\s]+`
/// (`regex` crate, Unicode classes) and drops everything else, i.e. runs of word characters
/// and runs of other non-space characters, with whitespace removed.
enum WhitespacePreTokenizer {
    static func split(_ piece: Substring) -> [Substring] {
        var result: [Substring] = []
        let scalars = piece.unicodeScalars
        var index = scalars.startIndex
        while index < scalars.endIndex {
            let scalar = scalars[index]
            if UnicodeClassifier.isWhitespace(scalar) && !UnicodeClassifier.isWordCharacter(scalar) {
                index = scalars.index(after: index)
                continue
            }
            let isWord = UnicodeClassifier.isWordCharacter(scalar)
            let start = index
            repeat {
                index = scalars.index(after: index)
            } while index < scalars.endIndex && Self.belongs(scalars[index], toWordRun: isWord)
            result.append(piece[start..<index])
        }
        return result
    }

    private static func belongs(_ scalar: Unicode.Scalar, toWordRun isWordRun: Bool) -> Bool {
        let isWord = UnicodeClassifier.isWordCharacter(scalar)
        if isWordRun { return isWord }
        return !isWord && !UnicodeClassifier.isWhitespace(scalar)
    }
}
