/// The GPT-2 byte ↔ Unicode table (`bytes_char` in the Rust `pre_tokenizers/byte_level.rs`):
/// printable bytes `!`…`~`, `¡`…`¬` and `®`…`ÿ` stand for themselves, the 68 others are
/// mapped in byte order to U+0100, U+0101, …, U+0143. Every byte-level vocabulary entry is
/// a string over these 256 characters.
enum ByteLevelAlphabet {
    /// `scalarForByte[b]` is the character that stands for byte `b`.
    static let scalarForByte: [Unicode.Scalar] = {
        var table = [Unicode.Scalar](repeating: " ", count: 256)
        var next: UInt32 = 256
        for byte in 0..<256 {
            let printable = (0x21...0x7E).contains(byte) || (0xA1...0xAC).contains(byte) || (0xAE...0xFF).contains(byte)
            let value = printable ? UInt32(byte) : next
            if !printable { next += 1 }
            // Every value here is below U+0144, so the scalar always exists.
            table[byte] = Unicode.Scalar(value) ?? " "
        }
        return table
    }()

    /// Inverse table indexed by scalar value (< 0x144); -1 where the scalar is not in the alphabet.
    static let byteForScalarValue: [Int16] = {
        var table = [Int16](repeating: -1, count: 0x144)
        for (byte, scalar) in scalarForByte.enumerated() {
            table[Int(scalar.value)] = Int16(byte)
        }
        return table
    }()

    @inline(__always)
    static func byte(for scalar: Unicode.Scalar) -> UInt8? {
        let value = Int(scalar.value)
        guard value < byteForScalarValue.count else { return nil }
        let byte = byteForScalarValue[value]
        return byte < 0 ? nil : UInt8(byte)
    }

    /// The byte-level form of some UTF-8 bytes (what the `ByteLevel` pre-tokenizer's
    /// normalization step produces).
    static func encode<Bytes: Sequence<UInt8>>(_ bytes: Bytes) -> String {
        // Every character of the alphabet is below U+0800: one or two UTF-8 bytes.
        var utf8: [UInt8] = []
        utf8.reserveCapacity(bytes.underestimatedCount * 2)
        for byte in bytes {
            let value = scalarForByte[Int(byte)].value
            if value < 0x80 {
                utf8.append(UInt8(value))
            } else {
                utf8.append(0xC0 | UInt8(value >> 6))
                utf8.append(0x80 | UInt8(value & 0x3F))
            }
        }
        return String(decoding: utf8, as: UTF8.self)
    }

    /// The bytes a byte-level token stands for, or nil when one of its characters is not in the
    /// alphabet (the `ByteLevel` decoder then keeps the token's own UTF-8 bytes).
    static func decode(_ token: String) -> [UInt8]? {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(token.utf8.count)
        for scalar in token.unicodeScalars {
            guard let byte = byte(for: scalar) else { return nil }
            bytes.append(byte)
        }
        return bytes
    }
}
