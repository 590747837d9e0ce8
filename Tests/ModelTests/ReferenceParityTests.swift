import Foundation
import XCTest
@testable import Generation
@testable import Model
import Weights

/// The Swift engine against PyTorch outputs of OpenFlamingo's own classes
/// (Tests/Fixtures/make_reference.py): a tiny random Flamingo with non-zero
/// gates, one prompt interleaving text, an image and a 3-frame video (with
/// text before the first <image>). Every intermediate is compared at 1e-4
/// relative to the largest reference magnitude; token ids must be equal.
final class ReferenceParityTests: XCTestCase {
    static let tolerance: Float = 1e-4

    private func directory(_ variant: String) -> URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/reference/\(variant)")
    }

    /// max |a - b| / max |b|: relative to the tensor's scale, so values near zero do not dominate.
    private func assertClose(_ a: [Float], _ b: [Float], _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.count, b.count, "\(what): size", file: file, line: line)
        guard a.count == b.count, !b.isEmpty else { return }
        let scale = max(1e-6, b.map(abs).max() ?? 1)
        let error = zip(a, b).map { abs($0 - $1) }.max() ?? 0
        XCTAssertLessThanOrEqual(error / scale, Self.tolerance, "\(what): max abs error \(error) at scale \(scale)", file: file, line: line)
    }

    private func check(_ variant: String) throws {
        let dir = directory(variant)
        let model = try FlamingoModel.load(directory: dir)
        let io = try SafetensorsFile(path: dir.appendingPathComponent("io.safetensors").path)
        let expected = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("expected.json"))) as? [String: Any])
        let c = model.configuration

        // Vision encoder and resampler, per media item.
        var media: [[Float]] = []
        for (index, name, frames) in [(0, "image", 1), (1, "video", 3)] {
            let pixels = try io.floats("pixels_\(name)")
            let tokens = model.vision.encode(pixels: pixels, frames: frames)
            assertClose(tokens, try io.floats("vision_tokens_\(name)"), "\(variant) vision tokens (\(name))")
            let latents = try model.resampler.resample(features: tokens, frames: frames, tokens: c.vision.patches, mediaIndex: index)
            assertClose(latents, try io.floats("resampled_\(name)"), "\(variant) resampler (\(name))")
            media.append(try model.encodeMedia(pixels: pixels, frames: frames, mediaIndex: index))
        }

        // Language model: every layer's hidden state and the logits.
        let ids = try io.integers("input_ids")
        XCTAssertEqual(ids, expected["input_ids"] as? [Int])
        let memory = model.mediaMemory(media)
        var state = model.makeState()
        let out = try model.forward(tokens: ids, state: &state, media: memory, allLogits: true, captureHidden: true)
        assertClose(try XCTUnwrap(out.embeddings), try io.floats("embeddings"), "\(variant) embeddings")
        let hidden = try XCTUnwrap(out.hidden)
        XCTAssertEqual(hidden.count, c.languageModel.nLayers)
        for (i, h) in hidden.enumerated() { assertClose(h, try io.floats("hidden_\(i)"), "\(variant) hidden_\(i)") }
        assertClose(try XCTUnwrap(out.final), try io.floats("final"), "\(variant) final norm")
        assertClose(out.logits, try io.floats("logits"), "\(variant) logits")

        // Token by token through the KV cache gives the same last logits as the full prompt.
        var stepped = model.makeState()
        var last: [Float] = []
        for id in ids { last = try model.forward(tokens: [id], state: &stepped, media: memory).logits }
        let vocab = c.languageModel.vocabSize
        assertClose(last, Array(out.logits[((ids.count - 1) * vocab)...]), "\(variant) cached decode vs full prompt")

        // Generation: greedy and beam search ids exactly.
        let generation = try XCTUnwrap(expected["generation"] as? [String: Any])
        let prompt = try XCTUnwrap(generation["prompt_ids"] as? [Int])
        let maxNew = try XCTUnwrap(generation["max_new_tokens"] as? Int)
        let decoder = Decoder(model: model)
        XCTAssertEqual(try decoder.generate(prompt: prompt, media: memory, options: GenerationOptions(maxNewTokens: maxNew)),
                       generation["greedy"] as? [Int], "\(variant) greedy")
        XCTAssertEqual(try decoder.generate(prompt: prompt, media: memory, options: GenerationOptions(maxNewTokens: maxNew, numBeams: 3, lengthPenalty: 1)),
                       generation["beam3_lp1"] as? [Int], "\(variant) beam search, length penalty 1")
        XCTAssertEqual(try decoder.generate(prompt: prompt, media: memory, options: GenerationOptions(maxNewTokens: maxNew, numBeams: 3, lengthPenalty: 0)),
                       generation["beam3_lp0"] as? [Int], "\(variant) beam search, length penalty 0")

        // Closed-ended scoring.
        let scoring = try XCTUnwrap(expected["scoring"] as? [String: Any])
        let options = try XCTUnwrap(scoring["options"] as? [[Int]])
        let reference = try XCTUnwrap(scoring["logprobs"] as? [Double])
        let scores = try decoder.score(prompt: try XCTUnwrap(scoring["prompt_ids"] as? [Int]), options: options, media: memory)
        XCTAssertEqual(scores.count, reference.count, "\(variant) one score per option")
        for (s, r) in zip(scores, reference) { XCTAssertEqual(s, r, accuracy: 1e-4 * max(1, abs(r)), "\(variant) option log-probability") }
    }

    func testWithFrameEmbeddings() throws { try check("frame_embs") }
    func testWithoutFrameEmbeddingsCrossAttentionEverySecondLayer() throws { try check("no_frame_embs") }

    func testStrictLoadingNamesTheTensor() throws {
        let dir = directory("frame_embs")
        let config = try FlamingoConfiguration.load(from: dir.appendingPathComponent("config.json"))
        // Ask for a wrong shape: the error names the key and both shapes.
        let store = try WeightStore(directory: dir)
        XCTAssertThrowsError(try store.take("perceiver.latents", shape: [9, 48])) { error in
            XCTAssertEqual(error as? WeightError, .wrongShape(key: "perceiver.latents", expected: [9, 48], actual: [8, 48]))
            XCTAssertTrue(error.localizedDescription.contains("perceiver.latents"))
        }
        // A config without frame_embs leaves perceiver.frame_embs unconsumed: unknown tensor.
        var noFrames = config
        noFrames.resampler.maxNumFrames = nil
        let fresh = try WeightStore(directory: dir)
        _ = try FlamingoModel(config: noFrames, store: fresh)
        XCTAssertThrowsError(try fresh.verifyAllConsumed()) { error in
            XCTAssertEqual(error as? WeightError, .unknownTensors(keys: ["perceiver.frame_embs"]))
        }
        // A config asking for more layers than the file has: missing tensor.
        var deeper = config
        deeper.languageModel.nLayers = 3
        XCTAssertThrowsError(try FlamingoModel(config: deeper, store: try WeightStore(directory: dir))) { error in
            guard case .missingTensor(let key, _) = error as? WeightError else { return XCTFail("\(error)") }
            XCTAssertTrue(key.hasPrefix("lang_encoder.transformer.blocks.2."), key)
        }
    }
}
