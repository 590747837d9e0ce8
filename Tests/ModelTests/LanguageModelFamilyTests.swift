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

    /// The family's download converted to a model directory with weights stored as `dtype`.
    func convert(_ family: String, dtype: SafetensorsWriter.DType) throws -> URL {
        let dir = Self.fixtures.appendingPathComponent(family)
        var converter = OpenFlamingoConverter(checkpoint: dir.appendingPathComponent("checkpoint.pt").path,
                                              vision: dir.appendingPathComponent("open_clip.pt").path,
                                              languageModel: dir.appendingPathComponent("lm").path)
        converter.dimHead = 16
        converter.visionHeadWidth = 12
        converter.dtype = dtype
        let modelDir = out.appendingPathComponent("\(family)-\(dtype.rawValue)")
        _ = try converter.convert(to: modelDir)
        return modelDir
    }

    /// Logits of the fixture's prompt over its image and 3-frame video, and the media memory.
    func run(_ model: FlamingoModel, _ family: String) throws -> (logits: [Float], memory: FlamingoModel.MediaMemory, ids: [Int]) {
        let io = try SafetensorsFile(path: Self.fixtures.appendingPathComponent("\(family)/io.safetensors").path)
        let image = try model.encodeMedia(pixels: io.floats("pixels_image"), frames: 1, mediaIndex: 0)
        let video = try model.encodeMedia(pixels: io.floats("pixels_video"), frames: 3, mediaIndex: 1)
        let memory = model.mediaMemory([image, video])
        let ids = try io.integers("input_ids")
        var state = model.makeState()
        return (try model.forward(tokens: ids, state: &state, media: memory, allLogits: true).logits, memory, ids)
    }

    func assertClose(_ a: [Float], _ b: [Float], _ tolerance: Float, _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.count, b.count, what, file: file, line: line)
        let scale = b.map(abs).max() ?? 1
        let error = zip(a, b).map { abs($0 - $1) }.max() ?? 0
        XCTAssertLessThanOrEqual(error / scale, tolerance, "\(what): max abs error \(error) at scale \(scale)", file: file, line: line)
    }

    func check(_ family: String, dtype: SafetensorsWriter.DType = .f32, tolerance: Float = 1e-4) throws {
        let model = try FlamingoModel.load(directory: try convert(family, dtype: dtype))
        XCTAssertEqual(model.configuration.languageModel.architecture, family)
        let io = try SafetensorsFile(path: Self.fixtures.appendingPathComponent("\(family)/io.safetensors").path)
        let (logits, memory, ids) = try run(model, family)
        assertClose(logits, try io.floats("logits"), tolerance, "\(family) \(dtype)")
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
            let dir = try convert(family, dtype: .f16)
            let atRest = try FlamingoModel.load(directory: dir)
            let widened = try FlamingoModel.load(directory: dir, keepHalfPrecision: false)
            XCTAssertGreaterThan(atRest.parametersKeptInHalfPrecision, 0)
            XCTAssertEqual(widened.parametersKeptInHalfPrecision, 0)
            assertClose(try run(atRest, family).logits, try run(widened, family).logits, 1e-5, "\(family): at rest vs widened")
        }
    }

    /// BF16 at rest (what OpenFlamingo's evaluation used): logits stay within bfloat16's precision.
    func testBFloat16AtRest() throws {
        try check("mpt", dtype: .bf16, tolerance: 3e-2)
        try check("gpt_neox", dtype: .bf16, tolerance: 3e-2)
    }
}
