/// One piece of a string as the Rust `Pattern::find_matches` reports it: the pieces tile the
/// whole string, and `isMatch` tells whether the pattern matched that piece.
struct PatternMatch {
    var range: Range<String.Index>
    var isMatch: Bool

    /// Rust's `Pattern` for `Fn(char) -> bool`: every matching character is its own match,
    /// and the characters between matches are one non-match piece.
    static func characters(in text: Substring, where predicate: (Unicode.Scalar) -> Bool) -> [PatternMatch] {
        if text.isEmpty { return [PatternMatch(range: text.startIndex..<text.endIndex, isMatch: false)] }
        var result: [PatternMatch] = []
        var lastEnd = text.startIndex
        let scalars = text.unicodeScalars
        var index = scalars.startIndex
        while index < scalars.endIndex {
            let next = scalars.index(after: index)
            if predicate(scalars[index]) {
                if lastEnd < index { result.append(PatternMatch(range: lastEnd..<index, isMatch: false)) }
                result.append(PatternMatch(range: index..<next, isMatch: true))
                lastEnd = next
            }
            index = next
        }
        if lastEnd < text.endIndex { result.append(PatternMatch(range: lastEnd..<text.endIndex, isMatch: false)) }
        return result
    }

    /// Tiles `text` given the ranges that matched (in order, non-overlapping), as the Rust
    /// regex `Pattern` implementations do.
    static func tiling(_ text: Substring, matches: [Range<String.Index>]) -> [PatternMatch] {
        if text.isEmpty { return [PatternMatch(range: text.startIndex..<text.endIndex, isMatch: false)] }
        var result: [PatternMatch] = []
        result.reserveCapacity(matches.count * 2 + 1)
        var previous = text.startIndex
        for match in matches {
            if previous != match.lowerBound {
                result.append(PatternMatch(range: previous..<match.lowerBound, isMatch: false))
            }
            result.append(PatternMatch(range: match, isMatch: true))
            previous = match.upperBound
        }
        if previous != text.endIndex {
            result.append(PatternMatch(range: previous..<text.endIndex, isMatch: false))
        }
        return result
    }

    /// Rust's `Invert` pattern wrapper.
    static func inverted(_ matches: [PatternMatch]) -> [PatternMatch] {
        matches.map { PatternMatch(range: $0.range, isMatch: !$0.isMatch) }
    }
}
