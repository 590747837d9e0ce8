import Foundation

/// Byte-exact string comparison: Swift's `==` treats canonically equivalent strings as equal,
/// which would hide normalization bugs.
func sameScalars(_ lhs: String, _ rhs: String) -> Bool {
    lhs.utf8.elementsEqual(rhs.utf8)
}

/// A readable rendering of a string's scalars for failure messages.
func scalarDump(_ text: String) -> String {
    text.unicodeScalars.map { $0.value < 0x80 && $0.value >= 0x20 ? String($0) : String(format: "\\u{%X}", $0.value) }.joined()
}
