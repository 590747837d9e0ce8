/// What a split does with the pieces its pattern matched (Rust `SplitDelimiterBehavior`,
/// applied as in `NormalizedString::split`).
enum SplitDelimiterBehavior: String, Decodable, Sendable {
    case removed = "Removed"
    case isolated = "Isolated"
    case mergedWithPrevious = "MergedWithPrevious"
    case mergedWithNext = "MergedWithNext"
    case contiguous = "Contiguous"

    /// The ranges to keep, in order (some may be empty; callers drop those).
    func apply(_ matches: [PatternMatch]) -> [Range<String.Index>] {
        switch self {
        case .isolated:
            return matches.map(\.range)
        case .removed:
            return matches.filter { !$0.isMatch }.map(\.range)
        case .contiguous:
            // Rust folds with `previous_match = false` to start with, so a leading non-match
            // starts a piece of its own only because the accumulator is empty.
            var result: [Range<String.Index>] = []
            var previousMatch = false
            for match in matches {
                if match.isMatch == previousMatch, let last = result.last {
                    result[result.count - 1] = last.lowerBound..<match.range.upperBound
                } else {
                    result.append(match.range)
                }
                previousMatch = match.isMatch
            }
            return result
        case .mergedWithPrevious:
            var result: [Range<String.Index>] = []
            var previousMatch = false
            for match in matches {
                if match.isMatch && !previousMatch, let last = result.last {
                    result[result.count - 1] = last.lowerBound..<match.range.upperBound
                } else {
                    result.append(match.range)
                }
                previousMatch = match.isMatch
            }
            return result
        case .mergedWithNext:
            // Same fold as MergedWithPrevious, walking backwards.
            var reversed: [Range<String.Index>] = []
            var previousMatch = false
            for match in matches.reversed() {
                if match.isMatch && !previousMatch, let last = reversed.last {
                    reversed[reversed.count - 1] = match.range.lowerBound..<last.upperBound
                } else {
                    reversed.append(match.range)
                }
                previousMatch = match.isMatch
            }
            return reversed.reversed()
        }
    }
}
