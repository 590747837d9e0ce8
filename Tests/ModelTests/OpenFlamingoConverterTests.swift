import Conversion
import Foundation
import Model
import Weights
import XCTest

/// The converter on tiny downloads in the released layouts
/// (Tests/Fixtures/make_released.py): every combination of checkpoint form
/// and vision layout gives back exactly the parity-tested reference model
/// (Tests/Fixtures/reference/no_frame_embs), so its logits and generations are
/// OpenFlamingo's; inputs that do not fit are refused naming the tensor.
final class OpenFlamingoConverterTests: XCTestCase {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures")
    var out: URL!

    override func setUpWithError() throws {
        out = FileManager.default.temporaryDirectory.appendingPathComponent("convert-\(UUID().uuidString)")
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: out) }

    func released(_ name: String) -> String { Self.fixtures.appendingPathComponent("released/\(name)").path }

    func converter(checkpoint: String, vision: String) -> OpenFlamingoConverter {
        var c = OpenFlamingoConverter(checkpoint: released(checkpoint), vision: released(vision), languageModel: released("mosaic_lm"))
        c.dimHead = 16  // the fixture's perceiver and cross-attention heads (released models: 64)
        c.visionHeadWidth = 12  // the fixture ViT: width 48, 4 heads
        c.visionActivation = "gelu"  // the no_frame_embs variant uses GELU
        return c
    }

    func assertEqualsReference(_ dir: URL, dtype: SafetensorsWriter.DType = .f32, file: StaticString = #filePath, line: UInt = #line) throws {
        let reference = Self.fixtures.appendingPathComponent("reference/no_frame_embs")
        let expected = try SafetensorsFile(path: reference.appendingPathComponent("model.safetensors").path)
        let actual = try SafetensorsFile(path: dir.appendingPathComponent("model.safetensors").path)
        XCTAssertEqual(Set(actual.entries.keys), Set(expected.entries.keys), file: file, line: line)
        for (key, entry) in expected.entries {
            XCTAssertEqual(actual.entries[key]?.shape, entry.shape, key, file: file, line: line)
            XCTAssertEqual(actual.entries[key]?.dtype, dtype.rawValue, key, file: file, line: line)
            let want = try expected.floats(key)
            let got = try actual.floats(key)
            switch dtype {
            case .f32: XCTAssertEqual(got, want, key, file: file, line: line)
            case .f16: XCTAssertEqual(got, want.map { Float(Float16($0)) }, key, file: file, line: line)
            case .bf16:
                for (g, w) in zip(got, want) { XCTAssertEqual(g, w, accuracy: abs(w) / 128 + 1e-30, key, file: file, line: line) }
            case .i8, .u8:
                XCTFail("the converter writes floats; int8 and 4-bit come from flamingo quantize", file: file, line: line)
            }
        }
        let config = try FlamingoConfiguration.load(from: dir.appendingPathComponent("config.json"))
        let want = try FlamingoConfiguration.load(from: reference.appendingPathComponent("config.json"))
        XCTAssertEqual(config, want, file: file, line: line)
    }

    func testEveryLayoutConvertsToTheReferenceModel() throws {
        for (checkpoint, vision) in [("checkpoint.pt", "open_clip.pt"), ("checkpoint_ddp.pt", "hf_clip_vision")] {
            let dir = out.appendingPathComponent("\(checkpoint)-\(vision)")
            let summary = try converter(checkpoint: checkpoint, vision: vision).convert(to: dir)
            XCTAssertEqual(summary.addedTokens, ["<|endofchunk|>": 93, "<image>": 94, "pad": 95])
            try assertEqualsReference(dir)
            // The tokenizer now knows the special tokens by the checkpoint's ids.
            let tokenizer = try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("tokenizer.json"))) as? [String: Any]
            let added = (tokenizer?["added_tokens"] as? [[String: Any]] ?? []).compactMap { $0["content"] as? String }
            XCTAssertEqual(added, ["<|endofchunk|>", "<image>", "<PAD>"])
        }
    }

    func testHalfPrecisionAtRest() throws {
        for dtype in [SafetensorsWriter.DType.f16, .bf16] {
            var c = converter(checkpoint: "checkpoint.pt", vision: "open_clip.pt")
            c.dtype = dtype
            let dir = out.appendingPathComponent(dtype.rawValue)
            _ = try c.convert(to: dir)
            try assertEqualsReference(dir, dtype: dtype)
        }
    }

    func testInputsThatDoNotFitAreRefusedByName() throws {
        // Wrong head width: the perceiver's to_q is 32 wide, not a multiple of 64.
        var c = converter(checkpoint: "checkpoint.pt", vision: "open_clip.pt")
        c.dimHead = 64
        XCTAssertThrowsError(try c.convert(to: out)) { error in
            XCTAssertTrue(error.localizedDescription.contains("perceiver.layers.0.0.to_q.weight"), error.localizedDescription)
        }
        // The LM directory given as the vision weights: no visual.* tensors.
        var swapped = converter(checkpoint: "checkpoint.pt", vision: "mosaic_lm/pytorch_model.bin")
        swapped.visionHeadWidth = 12
        XCTAssertThrowsError(try swapped.convert(to: out)) { error in
            XCTAssertTrue(error.localizedDescription.contains("visual.conv1.weight"), error.localizedDescription)
        }
        // The open_clip file as the checkpoint: tensors the converter cannot place, named.
        XCTAssertThrowsError(try converter(checkpoint: "open_clip.pt", vision: "open_clip.pt").convert(to: out)) { error in
            XCTAssertTrue(error.localizedDescription.contains("open_clip.pt:"), error.localizedDescription)
            XCTAssertTrue(error.localizedDescription.contains("visual."), error.localizedDescription)
        }
        // A language model type the engine does not serve yet.
        let lm = out.appendingPathComponent("llama")
        try FileManager.default.createDirectory(at: lm, withIntermediateDirectories: true)
        try Data(#"{"model_type": "llama"}"#.utf8).write(to: lm.appendingPathComponent("config.json"))
        var llama = converter(checkpoint: "checkpoint.pt", vision: "open_clip.pt")
        llama.languageModel = lm.path
        XCTAssertThrowsError(try llama.convert(to: out.appendingPathComponent("x"))) { error in
            XCTAssertTrue(error.localizedDescription.contains("'llama' is not supported"), error.localizedDescription)
        }
    }
}
