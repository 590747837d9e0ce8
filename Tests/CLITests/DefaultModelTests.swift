import Foundation
import XCTest

/// The shipped default model (Models/shapes-v1) through the user's commands,
/// without `--model`: the README's sample clip (rendered by the evaluation
/// renderer, which the model never trained on) is captioned and questioned
/// correctly. Its caption (renderer B's label for it, Pipelines/examples):
/// "a green square moving up and a white triangle moving left."
final class DefaultModelTests: XCTestCase {
    private var dir: URL!
    private let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    private var sample: String { repository.appendingPathComponent("Pipelines/examples/shapes.mp4").path }

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("default-model-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    func testCaptionOfTheSampleClip() throws {
        let r = try TinyModel.flamingo(["caption", sample, "--json"], scratch: dir)
        XCTAssertEqual(r.status, 0, r.stderr)
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: r.stdout) as? [String: Any])
        XCTAssertEqual(json["caption"] as? String, "a green square moving up and a white triangle moving left.")
        XCTAssertLessThan(json["logprob"] as? Double ?? 0, 0)
    }

    /// One set of decoding defaults: the default pipeline's sidecar says what `flamingo caption` prints.
    func testDefaultPipelineCaptionEqualsTheCaptionCommand() throws {
        let caption = try TinyModel.flamingo(["caption", sample, "--json"], scratch: dir)
        let sidecar = try TinyModel.flamingo(["run", sample, "--stdout"], scratch: dir)
        XCTAssertEqual(sidecar.status, 0, sidecar.stderr)
        let fromCaption = try XCTUnwrap(JSONSerialization.jsonObject(with: caption.stdout) as? [String: Any])["caption"] as? String
        let fromSidecar = try XCTUnwrap(JSONSerialization.jsonObject(with: sidecar.stdout) as? [String: Any])["caption"] as? [String: Any]
        XCTAssertEqual(fromSidecar?["text"] as? String, fromCaption)
        XCTAssertEqual(fromCaption, "a green square moving up and a white triangle moving left.")
        // The sidecar carries the model card's domain beside the model's name and hash.
        let model = try XCTUnwrap(JSONSerialization.jsonObject(with: sidecar.stdout) as? [String: Any])["model"] as? [String: Any]
        XCTAssertTrue((model?["domain"] as? String ?? "").hasPrefix("Shapes World only"), "\(model ?? [:])")
    }

    /// A follow-up question about a video already seen comes from the visual token cache: the same
    /// answer and log-probability as without it; a changed video or --no-cache does not use it.
    func testFollowUpQuestionsUseTheVisualTokenCache() throws {
        let cache = dir.appendingPathComponent("visual-token-cache")
        func entries() -> Int { ((try? FileManager.default.contentsOfDirectory(atPath: cache.path)) ?? []).count }
        let video = dir.appendingPathComponent("clip.mp4")
        try FileManager.default.copyItem(atPath: sample, toPath: video.path)
        let ask = ["ask", video.path, "-q", "how many shapes are there?", "--json"]
        let uncached = try TinyModel.flamingo(ask + ["--no-cache"], scratch: dir)
        XCTAssertEqual(uncached.status, 0, uncached.stderr)
        XCTAssertEqual(entries(), 0, "--no-cache writes nothing")
        let first = try TinyModel.flamingo(ask, scratch: dir)
        XCTAssertEqual(entries(), 1)
        let second = try TinyModel.flamingo(ask, scratch: dir)
        XCTAssertEqual(entries(), 1, "the second question hits the cache")
        XCTAssertEqual(first.stdout, uncached.stdout)
        XCTAssertEqual(second.stdout, uncached.stdout, "a cached answer is exactly the uncached one")
        // Same bytes, new mtime: another fingerprint, another entry.
        try FileManager.default.setAttributes([.modificationDate: Date().addingTimeInterval(60)], ofItemAtPath: video.path)
        let changed = try TinyModel.flamingo(ask, scratch: dir)
        XCTAssertEqual(changed.stdout, uncached.stdout)
        XCTAssertEqual(entries(), 2)
    }

    /// `flamingo info` says what the shipped model is for, and that a model without a card does not say.
    func testInfoPrintsTheModelCard() throws {
        let info = try TinyModel.flamingo(["info"], scratch: dir)
        XCTAssertEqual(info.status, 0, info.stderr)
        let text = String(decoding: info.stdout, as: UTF8.self)
        XCTAssertTrue(text.contains("domain: Shapes World only"), text)
        XCTAssertTrue(text.contains("captions_exact") && text.contains("91.50%"), text)
        XCTAssertTrue(text.contains("weights: int8_per_row"), text)
        XCTAssertTrue(text.contains("in-domain statistics: rank 64 of 128"), text)
        let json = try TinyModel.flamingo(["info", "--json"], scratch: dir)
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: json.stdout) as? [String: Any])
        XCTAssertEqual((object["card"] as? [String: Any])?["name"] as? String, "shapes-v1")
        let tiny = try TinyModel.make(in: dir)
        let bare = try TinyModel.flamingo(["info", "--model", tiny.path], scratch: dir)
        XCTAssertEqual(bare.status, 0, bare.stderr)
        XCTAssertTrue(String(decoding: bare.stdout, as: UTF8.self).contains("no model card"))
        XCTAssertTrue(String(decoding: bare.stdout, as: UTF8.self).contains("in-domain statistics: none"))
    }

    func testAnswersAboutTheSampleClip() throws {
        let qa = [("how many shapes are there?", "two"), ("what color is the triangle?", "white"),
                  ("what shape is the green object?", "square"), ("which way is the white triangle moving?", "left"),
                  ("is there a green circle?", "no"), ("is anything moving?", "yes")]
        let r = try TinyModel.flamingo(["ask", sample, "--json"] + qa.flatMap { ["-q", $0.0] }, scratch: dir)
        XCTAssertEqual(r.status, 0, r.stderr)
        let rows = try XCTUnwrap(JSONSerialization.jsonObject(with: r.stdout) as? [[String: Any]])
        XCTAssertEqual(rows.compactMap { $0["answer"] as? String }, qa.map { $0.1 })
    }

    /// `flamingo eval Models/eval --check-bars` on the shipped model: every bar of docs/WORLD.md is met
    /// (questions, captions, 4-shot task inference, the temporal ablation), through the product path.
    /// Every bar, and the evaluation clips (a renderer the model never trained on) in domain: at least
    /// 99% (docs/MODEL.md, "In-domain score").
    func testShippedModelMeetsEveryQualityBar() throws {
        let report = try assertEveryBar()
        let domain = try XCTUnwrap(report["domain"] as? [String: Any], "the shipped model has in-domain statistics")
        let inDomain = try XCTUnwrap((domain["in_domain"] as? [String: Any])?["accuracy"] as? Double)
        XCTAssertGreaterThanOrEqual(inDomain, 0.99, "\(domain)")
    }

    /// `flamingo eval Models/eval --check-bars` (on `model`, else the default) passes all 11 bars.
    @discardableResult
    private func assertEveryBar(model: URL? = nil, file: StaticString = #filePath, line: UInt = #line) throws -> [String: Any] {
        let r = try TinyModel.flamingo(["eval", repository.appendingPathComponent("Models/eval").path, "--json", "--check-bars"]
                                       + (model.map { ["--model", $0.path] } ?? []), scratch: dir)
        let report = try XCTUnwrap(JSONSerialization.jsonObject(with: r.stdout) as? [String: Any], r.stderr, file: file, line: line)
        let bars = try XCTUnwrap(report["bars"] as? [[String: Any]], file: file, line: line)
        XCTAssertEqual(bars.count, 11, file: file, line: line)
        for bar in bars {
            XCTAssertEqual(bar["passed"] as? Bool, true, "\(model?.lastPathComponent ?? "default") \(bar["name"] as? String ?? "?"): "
                           + "\(bar["value"] as? Double ?? -1)", file: file, line: line)
        }
        XCTAssertEqual(r.status, 0, r.stderr, file: file, line: line)
        return report
    }

    /// The default model is the int8 copy of the F16 training export (Models/shapes-v1-f16): quantizing
    /// that again gives the shipped bytes exactly, and the F16 source meets every bar too.
    func testTheDefaultModelIsTheInt8CopyOfTheF16ExportAndBothMeetEveryQualityBar() throws {
        let int8 = dir.appendingPathComponent("int8")
        let source = repository.appendingPathComponent("Models/shapes-v1-f16")
        let q = try TinyModel.flamingo(["quantize", source.path, "--out", int8.path], scratch: dir)
        XCTAssertEqual(q.status, 0, q.stderr)
        for name in ["model.safetensors", "config.json", "tokenizer.json", "model_card.json", "domain_stats.safetensors"] {
            XCTAssertEqual(try Data(contentsOf: int8.appendingPathComponent(name)),
                           try Data(contentsOf: repository.appendingPathComponent("Models/shapes-v1").appendingPathComponent(name)),
                           "Models/shapes-v1/\(name) is not `flamingo quantize Models/shapes-v1-f16`'s")
        }
        try assertEveryBar(model: source)
    }

    /// The F16 export in 4 bits (`flamingo quantize --bits 4`, q4_block32) meets every bar too.
    func testQ4CopyOfTheModelMeetsEveryQualityBar() throws {
        let q4 = dir.appendingPathComponent("q4")
        let q = try TinyModel.flamingo(["quantize", repository.appendingPathComponent("Models/shapes-v1-f16").path, "--out", q4.path,
                                        "--bits", "4"], scratch: dir)
        XCTAssertEqual(q.status, 0, q.stderr)
        XCTAssertTrue(String(decoding: q.stdout, as: UTF8.self).contains("in 4 bits"), String(decoding: q.stdout, as: UTF8.self))
        try assertEveryBar(model: q4)
    }
}
