import Foundation
import XCTest

/// `flamingo quantize` and `flamingo convert --dtype int8|q4` as a user runs them.
final class QuantizeCommandTests: XCTestCase {
    private let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures")

    func testConvertToInt8AndQuantizeAModelDirectory() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("quantize-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let converted = dir.appendingPathComponent("converted-int8")
        let convert = try convertReleased(dtype: "int8", to: converted, scratch: dir)
        XCTAssertEqual(convert.status, 0, convert.stderr)
        let config = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: converted.appendingPathComponent("config.json"))) as? [String: Any])
        XCTAssertEqual((config["quantization"] as? [String: Any])?["method"] as? String, "int8_per_row")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasPrefix(".") }, [],
                       "the float32 intermediate is removed")

        let model = try TinyModel.make(in: dir)
        let int8 = dir.appendingPathComponent("tiny-int8")
        let quantize = try TinyModel.flamingo(["quantize", model.path, "--out", int8.path], scratch: dir)
        XCTAssertEqual(quantize.status, 0, quantize.stderr)
        XCTAssertTrue(String(decoding: quantize.stdout, as: UTF8.self).contains("linear weights in int8"))
        let generate = try TinyModel.flamingo(["generate", "--model", int8.path, "--prompt", "ab", "--max-tokens", "3"], scratch: dir)
        XCTAssertEqual(generate.status, 0, generate.stderr)
        let again = try TinyModel.flamingo(["quantize", int8.path, "--out", dir.appendingPathComponent("twice").path], scratch: dir)
        XCTAssertEqual(again.status, 1)
        XCTAssertTrue(again.stderr.contains("already quantized"), again.stderr)
    }

    func testConvertToQ4() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("quantize-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let converted = dir.appendingPathComponent("converted-q4")
        let convert = try convertReleased(dtype: "q4", to: converted, scratch: dir)
        XCTAssertEqual(convert.status, 0, convert.stderr)
        let config = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: converted.appendingPathComponent("config.json"))) as? [String: Any])
        XCTAssertEqual((config["quantization"] as? [String: Any])?["method"] as? String, "q4_block32")
        let file = try String(contentsOf: converted.appendingPathComponent("model.safetensors"), encoding: .isoLatin1)
        XCTAssertTrue(file.contains("\"U8\"") && file.contains("_scale"), "4-bit tensors and their scales are written")

        let model = try TinyModel.make(in: dir)
        let bad = try TinyModel.flamingo(["quantize", model.path, "--out", dir.appendingPathComponent("b").path, "--bits", "3"], scratch: dir)
        XCTAssertEqual(bad.status, 1)
        XCTAssertTrue(bad.stderr.contains("8 and 4 are supported"), bad.stderr)
    }

    /// `flamingo convert` of the released-layout fixture (Tests/Fixtures/released) with `--dtype`.
    private func convertReleased(dtype: String, to out: URL, scratch: URL) throws -> (status: Int32, stdout: Data, stderr: String) {
        let released = fixtures.appendingPathComponent("released")
        return try TinyModel.flamingo([
            "convert", "--checkpoint", released.appendingPathComponent("checkpoint.pt").path,
            "--vision", released.appendingPathComponent("open_clip.pt").path,
            "--lm", released.appendingPathComponent("mosaic_lm").path, "--out", out.path, "--dtype", dtype,
            "--dim-head", "16", "--vision-head-width", "12", "--vision-activation", "gelu"], scratch: scratch)
    }
}
