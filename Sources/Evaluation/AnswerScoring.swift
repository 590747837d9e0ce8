import Foundation

/// Exact-match scoring (docs/WORLD.md §Language): lower-case, trim white space, drop
/// one final period (Training/world.py `normalize_answer`).
public enum AnswerScoring {
    public static func normalize(_ text: String) -> String {
        var s = text.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
        if s.hasSuffix(".") {
            s.removeLast()
            while let last = s.last, last.isWhitespace { s.removeLast() }
        }
        return s
    }

    public static func matches(_ prediction: String, _ answer: String) -> Bool {
        normalize(prediction) == normalize(answer)
    }
}
