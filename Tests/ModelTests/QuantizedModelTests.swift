import Conversion
import Foundation
import XCTest
@testable import Generation
@testable import Model
@testable import Weights

/// `flamingo quantize` on the reference fixture model (Tests/Fixtures/reference):
/// the int8 model's next-token log-probabilities against the float model's on the
/// fixture prompt, and strict loading of quantized directories.
final class QuantizedModelTests: XCTestCase {
    private var dir: URL!
    private let reference = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/reference/frame_embs")

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("quantized-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    private func quantized() throws -> URL {
        let out = dir.appendingPathComponent("int8")
        let summary = try ModelQuantizer.quantize(model: reference, to: out)
        XCTAssertGreaterThan(summary.quantized, 0)
        XCTAssertLessThan(summary.bytesAfter, summary.bytesBefore)
        return out
    }

    /// Log-softmax of every position's logits (positions, vocab) on the fixture prompt of `fixture`.
    private func logProbabilities(_ model: FlamingoModel, fixture: URL? = nil) throws -> [[Float]] {
        let io = try SafetensorsFile(path: (fixture ?? reference).appendingPathComponent("io.safetensors").path)
        let media = try [(0, "image", 1), (1, "video", 3)].map { index, name, frames in
            try model.encodeMedia(pixels: try io.floats("pixels_\(name)"), frames: frames, mediaIndex: index)
        }
        var state = model.makeState()
        let ids = try io.integers("input_ids")
        let logits = try model.forward(tokens: ids, state: &state, media: model.mediaMemory(media), allLogits: true).logits
        return Self.logSoftmax(logits, vocab: model.configuration.languageModel.vocabSize)
    }

    private static func logSoftmax(_ logits: [Float], vocab: Int) -> [[Float]] {
        (0..<(logits.count / vocab)).map { p in
            let row = logits[(p * vocab)..<((p + 1) * vocab)].map(Double.init)
            let top = row.max() ?? 0
            let log = Foundation.log(row.reduce(0) { $0 + exp($1 - top) }) + top
            return row.map { Float($0 - log) }
        }
    }

    /// Max and mean absolute log-prob error, top-1 agreement and mean KL(a || b) (nats) of `b` against `a`.
    private static func figures(_ a: [[Float]], _ b: [[Float]]) -> (max: Float, mean: Float, top1: Int, kl: Double) {
        var maxError: Float = 0, sum: Double = 0, count = 0, agree = 0, kl = 0.0
        for (x, y) in zip(a, b) {
            for (u, v) in zip(x, y) {
                maxError = max(maxError, abs(u - v))
                sum += Double(abs(u - v))
                count += 1
                kl += exp(Double(u)) * Double(u - v)
            }
            if x.indices.max(by: { x[$0] < x[$1] }) == y.indices.max(by: { y[$0] < y[$1] }) { agree += 1 }
        }
        return (maxError, Float(sum / Double(max(1, count))), agree, kl / Double(max(1, a.count)))
    }

    /// Ours against PyTorch's quantize_dynamic (Tests/Fixtures/make_int8_reference.py) on one fixture:
    /// both measured against PyTorch's float32 log-probabilities; ours must be no less accurate on
    /// every figure.
    private func assertNoLessAccurateThanPyTorch(fixture: URL, label: String) throws {
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: fixture.appendingPathComponent("torch_int8.json"))) as? [String: Any])
        let theirs = (max: Float(try XCTUnwrap(json["max_abs_logprob_error"] as? Double)),
                      mean: Float(try XCTUnwrap(json["mean_abs_logprob_error"] as? Double)),
                      top1: try XCTUnwrap(json["top1_agreement"] as? Int),
                      kl: try XCTUnwrap(json["mean_kl_divergence"] as? Double))
        let io = try SafetensorsFile(path: fixture.appendingPathComponent("io.safetensors").path)
        let float32 = try FlamingoModel.load(directory: fixture)
        let reference = Self.logSoftmax(try io.floats("logits"), vocab: float32.configuration.languageModel.vocabSize)
        let oursFloat = Self.figures(reference, try logProbabilities(float32, fixture: fixture))
        let out = dir.appendingPathComponent("int8-\(label.filter(\.isNumber))")
        _ = try ModelQuantizer.quantize(model: fixture, to: out)
        let ours = Self.figures(reference, try logProbabilities(try FlamingoModel.load(directory: out), fixture: fixture))
        print(String(format: "%@: against PyTorch float32 over %d positions: ours int8 log-prob error max %.4f mean %.5f, "
                     + "top-1 %d, KL %.5f; PyTorch quantize_dynamic max %.4f mean %.5f, top-1 %d, KL %.5f; ours float32 max %.2g",
                     label, reference.count, ours.max, ours.mean, ours.top1, ours.kl, theirs.max, theirs.mean, theirs.top1,
                     theirs.kl, oursFloat.max))
        XCTAssertLessThan(oursFloat.max, 1e-3, "\(label): our float32 model must match PyTorch's first")
        XCTAssertLessThanOrEqual(ours.max, theirs.max, "\(label): max log-prob error")
        XCTAssertLessThanOrEqual(ours.mean, theirs.mean, "\(label): mean log-prob error")
        XCTAssertGreaterThanOrEqual(ours.top1, theirs.top1, "\(label): top-1 agreement")
        XCTAssertLessThanOrEqual(ours.kl, theirs.kl, "\(label): KL divergence")
    }

    /// The committed width-48 fixture (PyTorch's figures in reference/frame_embs/torch_int8.json).
    func testInt8IsNoLessAccurateThanPyTorchDynamicQuantization() throws {
        try assertNoLessAccurateThanPyTorch(fixture: reference, label: "width 48")
    }

    /// A 768-wide model (vision, resampler, cross-attention, language model) that the committed script
    /// builds now with the reference environment (`make test` sets it up): 250 MB, not committed.
    func testInt8At768WideIsNoLessAccurateThanPyTorchDynamicQuantization() throws {
        let repository = reference.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let python = repository.appendingPathComponent(".venv-reference/bin/python").path
        guard FileManager.default.isExecutableFile(atPath: python) else {
            XCTFail("\(python) is missing: `make reference-env` (which `make test` runs) sets it up")
            return
        }
        let wide = dir.appendingPathComponent("wide")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [repository.appendingPathComponent("Tests/Fixtures/make_int8_reference.py").path, "--wide", wide.path]
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0, "make_int8_reference.py --wide")
        try assertNoLessAccurateThanPyTorch(fixture: wide, label: "width 768")

        // 4 bits on the same model: reported (docs/QUANTIZATION.md), with a loose floor.
        let io = try SafetensorsFile(path: wide.appendingPathComponent("io.safetensors").path)
        let q4 = dir.appendingPathComponent("q4-768")
        _ = try ModelQuantizer.quantize(model: wide, to: q4, bits: 4)
        let model = try FlamingoModel.load(directory: q4)
        let reference = Self.logSoftmax(try io.floats("logits"), vocab: model.configuration.languageModel.vocabSize)
        let figures = Self.figures(reference, try logProbabilities(model, fixture: wide))
        print(String(format: "width 768, q4_block32 against PyTorch float32 over %d positions: log-prob error max %.4f mean %.5f, top-1 %d, KL %.5f",
                     reference.count, figures.max, figures.mean, figures.top1, figures.kl))
        XCTAssertGreaterThanOrEqual(figures.top1, reference.count * 3 / 4)
    }

    /// Width 48 with random weights is a hard case for int8 (near-tied logits,
    /// few values per scale): measured max 0.246, mean 0.039, top-1 11 of 12
    /// positions (the one miss is a near tie; PyTorch's own quantize_dynamic:
    /// 0.384, 0.062, 10 of 12, compared below). The bounds keep a margin over
    /// that so a regression fails; the shipped model's quality bars are checked
    /// on its int8 copy in DefaultModelTests.
    func testInt8LogProbabilitiesStayCloseToTheFloatModel() throws {
        let float = try logProbabilities(try FlamingoModel.load(directory: reference))
        let int8Model = try FlamingoModel.load(directory: try quantized())
        XCTAssertGreaterThan(int8Model.parametersKeptInInt8, 0)
        let int8 = try logProbabilities(int8Model)
        var maxError: Float = 0, sum: Float = 0, count = 0, agree = 0
        for (a, b) in zip(float, int8) {
            for (x, y) in zip(a, b) {
                maxError = max(maxError, abs(x - y))
                sum += abs(x - y)
                count += 1
            }
            if a.indices.max(by: { a[$0] < a[$1] }) == b.indices.max(by: { b[$0] < b[$1] }) { agree += 1 }
        }
        XCTAssertEqual(float.count, int8.count)
        print(String(format: "int8 vs float32 on the reference prompt (%d positions): log-prob error max %.4f, mean %.5f; top-1 agreement %d/%d",
                     float.count, maxError, sum / Float(count), agree, float.count))
        XCTAssertGreaterThanOrEqual(agree, float.count - 1, "top-1 next-token agreement")
        XCTAssertLessThan(maxError, 0.3)
        XCTAssertLessThan(sum / Float(count), 0.05)
    }

    /// 4 bits (q4_block32) on the reference fixture: it loads strictly, its next-token log-probabilities
    /// stay near the float model's, and the config must say so.
    func testQ4ModelLoadsStrictlyAndStaysNearTheFloatModel() throws {
        let out = dir.appendingPathComponent("q4")
        let summary = try ModelQuantizer.quantize(model: reference, to: out, bits: 4)
        XCTAssertGreaterThan(summary.quantized, 0)
        let model = try FlamingoModel.load(directory: out)
        XCTAssertGreaterThan(model.parametersKeptInQ4, 0)
        let float = try logProbabilities(try FlamingoModel.load(directory: reference))
        let q4 = try logProbabilities(model)
        let figures = Self.figures(float, q4)
        print(String(format: "q4 vs float32 on the reference prompt (%d positions): log-prob error max %.4f, mean %.5f; top-1 %d; KL %.5f",
                     float.count, figures.max, figures.mean, figures.top1, figures.kl))
        // Measured: max 2.96, mean 0.379, top-1 11 of 12, KL 0.099 (4 bits on a random width-48 model; only
        // widths that are multiples of 32 are quantized). The bounds keep a margin so a regression fails.
        XCTAssertGreaterThanOrEqual(figures.top1, float.count - 2)
        XCTAssertLessThan(figures.kl, 0.15)

        // The config names the other method: refused, naming both sides.
        let configURL = out.appendingPathComponent("config.json")
        var json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: configURL)) as? [String: Any])
        json["quantization"] = ["method": "int8_per_row"]
        try JSONSerialization.data(withJSONObject: json).write(to: configURL)
        XCTAssertThrowsError(try FlamingoModel.load(directory: out)) { error in
            XCTAssertTrue(error.localizedDescription.contains("are 4-bit (U8)"), error.localizedDescription)
        }
        json["quantization"] = nil
        try JSONSerialization.data(withJSONObject: json).write(to: configURL)
        XCTAssertThrowsError(try FlamingoModel.load(directory: out)) { error in
            XCTAssertTrue(error.localizedDescription.contains("are 4-bit (U8) but the config has no quantization entry"), error.localizedDescription)
        }
        XCTAssertThrowsError(try ModelQuantizer.quantize(model: reference, to: dir.appendingPathComponent("q3"), bits: 3)) { error in
            XCTAssertTrue(error.localizedDescription.contains("8 and 4 are supported"), error.localizedDescription)
        }
    }

    func testQuantizedDirectoriesLoadStrictly() throws {
        let good = try quantized()
        // The scales of one weight missing: the error names the scale tensor.
        let file = try SafetensorsFile(path: good.appendingPathComponent("model.safetensors").path)
        let victim = try XCTUnwrap(file.entries.keys.filter { $0.hasSuffix(".weight_scale") }.sorted().first)
        var tensors: [String: SafetensorsWriter.Tensor] = [:]
        for (key, entry) in file.entries where key != victim {
            let dtype = SafetensorsWriter.DType(rawValue: entry.dtype)
            tensors[key] = .init(shape: entry.shape, dtype: dtype) {
                if entry.dtype == "I8" { return file.rawBytes(key).map { $0.map { Float(Int8(bitPattern: $0)) } } ?? [] }
                return try file.floats(key)
            }
        }
        let broken = dir.appendingPathComponent("no-scale")
        try FileManager.default.createDirectory(at: broken, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: good.appendingPathComponent("config.json"), to: broken.appendingPathComponent("config.json"))
        try SafetensorsWriter.write(tensors, dtype: .f32, to: broken.appendingPathComponent("model.safetensors"))
        XCTAssertThrowsError(try FlamingoModel.load(directory: broken)) { error in
            XCTAssertTrue(error.localizedDescription.contains(victim), error.localizedDescription)
        }

        // int8 tensors with a config that does not say so, and the other way round.
        var json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: good.appendingPathComponent("config.json"))) as? [String: Any])
        json["quantization"] = nil
        try JSONSerialization.data(withJSONObject: json).write(to: good.appendingPathComponent("config.json"))
        XCTAssertThrowsError(try FlamingoModel.load(directory: good)) { error in
            XCTAssertTrue(error.localizedDescription.contains("are int8 (I8) but the config has no quantization entry"), error.localizedDescription)
        }
        let plain = dir.appendingPathComponent("plain")
        try FileManager.default.copyItem(at: reference, to: plain)
        json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: plain.appendingPathComponent("config.json"))) as? [String: Any])
        json["quantization"] = ["method": "int8_per_row"]
        try JSONSerialization.data(withJSONObject: json).write(to: plain.appendingPathComponent("config.json"))
        XCTAssertThrowsError(try FlamingoModel.load(directory: plain)) { error in
            XCTAssertTrue(error.localizedDescription.contains("but no linear weight is int8"), error.localizedDescription)
        }
        json["quantization"] = ["method": "int4"]
        try JSONSerialization.data(withJSONObject: json).write(to: plain.appendingPathComponent("config.json"))
        XCTAssertThrowsError(try FlamingoModel.load(directory: plain)) { error in
            XCTAssertTrue(error.localizedDescription.contains("quantization.method 'int4' is not supported"), error.localizedDescription)
        }
        XCTAssertThrowsError(try ModelQuantizer.quantize(model: try quantized(), to: dir.appendingPathComponent("twice"))) { error in
            XCTAssertTrue(error.localizedDescription.contains("already quantized"), error.localizedDescription)
        }
    }
}
