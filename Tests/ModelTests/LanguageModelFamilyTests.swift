import Conversion
import Foundation
import Generation
import Model
import Weights
import XCTest

/// MPT (MPT-7B's recipe) and GPT-NeoX (RedPajama-INCITE's) through the whole
/// path a user takes: tiny downloads in the released layouts
/// (Tests/Fixtures/make_lm_families.py: transformers' own MptForCausalLM and
/// GPTNeoXForCausalLM inside OpenFlamingo) are converted, loaded, and must give
/// OpenFlamingo's logits (1e-4 relative to the largest) and greedy ids.
final class LanguageModelFamilyTests: XCTestCase {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/families")
    var out: URL!

    override func setUpWithError() throws {
        out = FileManager.default.temporaryDirectory.appendingPathComponent("families-\(UUID().uuidString)")
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: out) }

    func check(_ family: String, dtype: SafetensorsWriter.DType = .f32, tolerance: Float = 1e-4) throws {
        let dir = Self.fixtures.appendingPathComponent(family)
        var converter = OpenFlamingoConverter(checkpoint: dir.appendingPathComponent("checkpoint.pt").path,
                                              vision: dir.appendingPathComponent("open_clip.pt").path,
                                              languageModel: dir.appendingPathComponent("lm").path)
        converter.dimHead = 16
        converter.visionHeadWidth = 12
        converter.dtype = dtype
        let modelDir = out.appendingPathComponent("\(family)-\(dtype.rawValue)")
        _ = try converter.convert(to: modelDir)
        let model = try FlamingoModel.load(directory: modelDir)
        XCTAssertEqual(model.configuration.languageModel.architecture, family)

        let io = try SafetensorsFile(path: dir.appendingPathComponent("io.safetensors").path)
        let image = try model.encodeMedia(pixels: io.floats("pixels_image"), frames: 1, mediaIndex: 0)
        let video = try model.encodeMedia(pixels: io.floats("pixels_video"), frames: 3, mediaIndex: 1)
        let memory = model.mediaMemory([image, video])
        let ids = try io.integers("input_ids")
        var state = model.makeState()
        let logits = try model.forward(tokens: ids, state: &state, media: memory, allLogits: true).logits
        let expected = try io.floats("logits")
        XCTAssertEqual(logits.count, expected.count)
        let scale = expected.map(abs).max() ?? 1
        let error = zip(logits, expected).map { abs($0 - $1) }.max() ?? 0
        XCTAssertLessThanOrEqual(error / scale, tolerance, "\(family) \(dtype): max abs error \(error) at scale \(scale)")
        if dtype == .f32 {
            let greedy = try Decoder(model: model).generate(prompt: ids, media: memory, options: GenerationOptions(maxNewTokens: 8))
            XCTAssertEqual(greedy, try io.integers("greedy"), family)
        }
    }

    func testMPT() throws { try check("mpt") }

    func testGPTNeoX() throws { try check("gpt_neox") }

    /// F16 weights kept at rest (widened per tile) give the logits of the same weights widened on load.
    func testHalfAtRestEqualsWidenedOnLoad() throws {
        for family in ["mpt", "gpt_neox"] {
            let dir = Self.fixtures.appendingPathComponent(family)
            var converter = OpenFlamingoConverter(checkpoint: dir.appendingPathComponent("checkpoint.pt").path,
                                                  vision: dir.appendingPathComponent("open_clip.pt").path,
                                                  languageModel: dir.appendingPathComponent("lm").path)
            converter.dimHead = 16
            converter.visionHeadWidth = 12
            converter.dtype = .f16
            let modelDir = out.appendingPathComponent("\(family)-f16-at-rest")
            _ = try converter.convert(to: modelDir)
            let atRest = try FlamingoModel.load(directory: modelDir)
            let widened = try FlamingoModel.load(directory: modelDir, keepHalfPrecision: false)
            XCTAssertGreaterThan(atRest.parametersKeptInHalfPrecision, 0)
            XCTAssertEqual(widened.parametersKeptInHalfPrecision, 0)
            let io = try SafetensorsFile(path: dir.appendingPathComponent("io.safetensors").path)
            let ids = try io.integers("input_ids")
            var outputs: [[Float]] = []
            for model in [atRest, widened] {
                let memory = model.mediaMemory([try model.encodeMedia(pixels: io.floats("pixels_image"), frames: 1, mediaIndex: 0),
                                                try model.encodeMedia(pixels: io.floats("pixels_video"), frames: 3, mediaIndex: 1)])
                var state = model.makeState()
                outputs.append(try model.forward(tokens: ids, state: &state, media: memory, allLogits: true).logits)
            }
            let scale = outputs[1].map(abs).max() ?? 1
            let error = zip(outputs[0], outputs[1]).map { abs($0 - $1) }.max() ?? 0
            XCTAssertLessThanOrEqual(error / scale, 1e-5, "\(family): at rest vs widened")
        }
    }

    /// BF16 at rest (what OpenFlamingo's evaluation used): logits stay within bfloat16's precision.
    func testBFloat16AtRest() throws {
        try check("mpt", dtype: .bf16, tolerance: 3e-2)
        try check("gpt_neox", dtype: .bf16, tolerance: 3e-2)
    }
}
