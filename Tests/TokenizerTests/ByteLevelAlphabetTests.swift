import XCTest
@testable import Tokenizer

final class ByteLevelAlphabetTests: XCTestCase {
    func testEveryByteRoundTrips() {
        var seen = Set<UInt32>()
        for byte in 0...255 {
            let scalar = ByteLevelAlphabet.scalarForByte[byte]
            XCTAssertTrue(seen.insert(scalar.value).inserted, "byte \(byte) shares its character")
            XCTAssertEqual(ByteLevelAlphabet.byte(for: scalar), UInt8(byte))
        }
        let all = (0...255).map(UInt8.init)
        XCTAssertEqual(ByteLevelAlphabet.decode(ByteLevelAlphabet.encode(all)), all)
    }

    func testKnownGPT2Characters() {
        XCTAssertEqual(ByteLevelAlphabet.encode(Array(" ".utf8)), "Ġ")        // U+0120
        XCTAssertEqual(ByteLevelAlphabet.encode(Array("\n".utf8)), "Ċ")       // U+010A
        XCTAssertEqual(ByteLevelAlphabet.encode(Array("\t".utf8)), "ĉ")       // U+0109
        XCTAssertEqual(ByteLevelAlphabet.encode([0x00]), "Ā")                  // U+0100
        XCTAssertEqual(ByteLevelAlphabet.encode([0xAD]), "Ń")                  // U+0143, the last one
        XCTAssertEqual(ByteLevelAlphabet.encode(Array("A~!".utf8)), "A~!")     // printable ASCII is itself
        XCTAssertEqual(ByteLevelAlphabet.encode(Array("é".utf8)), "Ã©")
        XCTAssertNil(ByteLevelAlphabet.decode("<image> x"))                     // space is not in the alphabet
    }
}
