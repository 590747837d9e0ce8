import Foundation
import Weights
import XCTest

/// The safetensors header parser on hostile headers: every one is a typed error naming the file.
final class SafetensorsHeaderTests: XCTestCase {
    private func write(_ header: [String: Any], data: Int) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("hdr-\(UUID().uuidString).safetensors").path
        let json = try JSONSerialization.data(withJSONObject: header)
        var bytes = withUnsafeBytes(of: UInt64(json.count).littleEndian) { Data($0) }
        bytes += json + Data(count: data)
        try bytes.write(to: URL(fileURLWithPath: path))
        return path
    }

    func testHostileHeadersAreTypedErrors() throws {
        let cases: [([String: Any], Int, String)] = [
            // A shape whose byte count overflows Int (2^61 F64 elements): it used to trap on `count * size`.
            (["w": ["dtype": "F64", "shape": [1 << 61], "data_offsets": [0, 8]]], 8, "bytes for shape"),
            (["w": ["dtype": "F32", "shape": [2], "data_offsets": [0, 1 << 40]]], 8, "spans bytes"),
            (["w": ["dtype": "F32", "shape": [-2], "data_offsets": [0, 8]]], 8, "negative dimension"),
            (["w": ["dtype": "F32", "data_offsets": [0, 8]]], 8, "lacks dtype, shape or data_offsets"),
        ]
        for (header, data, expected) in cases {
            let path = try write(header, data: data)
            defer { try? FileManager.default.removeItem(atPath: path) }
            XCTAssertThrowsError(try SafetensorsFile(path: path), "\(header)") { error in
                XCTAssertTrue(error.localizedDescription.contains(expected), error.localizedDescription)
                XCTAssertTrue(error.localizedDescription.contains((path as NSString).lastPathComponent), error.localizedDescription)
            }
        }
    }
}
