import Foundation
import Generation
import XCTest

/// `flamingo run` writing sidecars: results that follow the published JSON
/// Schema, an error sidecar for a corrupt file among good ones, no overwrite
/// of a sidecar-named file that is not ours, segment captions as WebVTT.
final class RunCommandTests: XCTestCase {
    private var dir: URL!
    private var model: URL!

    private var schema: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Pipelines/sidecar.schema.json")
    }

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("run-\(UUID().uuidString)")
        model = try TinyModel.make(in: dir)
        try TinyModel.ffmpeg(["-f", "lavfi", "-i", "testsrc2=size=96x64:rate=10", "-t", "5", "-c:v", "libx264"],
                             output: dir.appendingPathComponent("a.mp4"))
        try TinyModel.ffmpeg(["-f", "lavfi", "-i", "testsrc2=size=80x80:rate=12", "-t", "3", "-c:v", "libvpx-vp9",
                              "-deadline", "realtime"], output: dir.appendingPathComponent("b.webm"))
        try Data("not a video at all".utf8).write(to: dir.appendingPathComponent("broken.mp4"))
        let pipeline = """
            name: test
            sampling:
              max_frames: 4
              segment_seconds: 2
            decoding:
              beams: 2
              max_tokens: 4
            tasks:
              - caption:
                  examples:
                    - media: b.webm
                      text: ab
              - qa:
                  template: "Q {question} A"
                  questions: [cd, ef]
              - classify:
                  name: pick
                  question: gh
                  options: [ij, kl]
              - prompt:
                  name: raw
                  text: "<image>mn<|endofchunk|><image>op"
                  media: [b.webm]
            """
        try pipeline.write(to: dir.appendingPathComponent("test.yaml"), atomically: true, encoding: .utf8)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    private func run(_ extra: [String]) throws -> (status: Int32, stdout: Data, stderr: String) {
        try TinyModel.flamingo(["run", "--pipeline", dir.appendingPathComponent("test.yaml").path, "--model", model.path] + extra,
                               scratch: dir)
    }

    private func sidecar(_ name: String) throws -> [String: Any] {
        let data = try Data(contentsOf: dir.appendingPathComponent("\(name).flamingo.json"))
        return try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    func testSidecarsForGoodAndBadVideos() throws {
        let validator = try JSONSchemaValidator(contentsOf: schema)
        let videos = ["a.mp4", "broken.mp4", "b.webm"].map { dir.appendingPathComponent($0).path }
        let result = try run(videos)
        XCTAssertEqual(result.status, 1, "one video failed: exit status 1")
        XCTAssertTrue(result.stderr.contains("broken.mp4"), result.stderr)

        let a = try sidecar("a.mp4")
        XCTAssertEqual(validator.validate(a), [])
        XCTAssertEqual(a["status"] as? String, "ok")
        XCTAssertEqual((a["frames"] as? [Double])?.count, 4, "max_frames 4 spread over 5 s")
        XCTAssertNotNil((a["caption"] as? [String: Any])?["text"] as? String)
        XCTAssertEqual((a["answers"] as? [[String: Any]])?.compactMap { $0["question"] as? String }, ["cd", "ef"])
        let classification = try XCTUnwrap((a["classifications"] as? [[String: Any]])?.first)
        XCTAssertTrue(["ij", "kl"].contains(classification["answer"] as? String ?? ""))
        let scores = try XCTUnwrap(classification["scores"] as? [[String: Any]])
        let best = scores.max { ($0["logprob"] as? Double ?? 0) < ($1["logprob"] as? Double ?? 0) }
        XCTAssertEqual(best?["option"] as? String, classification["answer"] as? String)
        XCTAssertEqual((a["prompts"] as? [[String: Any]])?.first?["name"] as? String, "raw")
        // 5 s in 2 s segments: 3 captioned segments, also as WebVTT.
        XCTAssertEqual((a["segments"] as? [[String: Any]])?.compactMap { $0["start_s"] as? Double }, [0, 2, 4])
        let vtt = try String(contentsOf: dir.appendingPathComponent("a.mp4.flamingo.vtt"), encoding: .utf8)
        XCTAssertTrue(vtt.hasPrefix("WEBVTT\n\n1\n00:00:00.000 --> 00:00:02.000\n"), vtt)
        let fingerprint = try XCTUnwrap((a["video"] as? [String: Any])?["fingerprint"] as? [String: Any])
        let size = try XCTUnwrap(FileManager.default.attributesOfItem(atPath: videos[0])[.size] as? Int)
        XCTAssertEqual(fingerprint["size"] as? Int, size)

        let broken = try sidecar("broken.mp4")
        XCTAssertEqual(validator.validate(broken), [])
        XCTAssertEqual(broken["status"] as? String, "error")
        let error = try XCTUnwrap(broken["error"] as? [String: Any])
        XCTAssertEqual(error["code"] as? String, "not_a_video")
        XCTAssertTrue((error["message"] as? String ?? "").contains("broken.mp4"))

        XCTAssertEqual(try sidecar("b.webm")["status"] as? String, "ok", "a bad file does not stop the others")
        // No temporary files are left behind.
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasPrefix(".flamingo-tmp-") }
        XCTAssertEqual(leftovers, [])
    }

    func testAFileThatIsNotOursIsNeverOverwritten() throws {
        let video = dir.appendingPathComponent("a.mp4").path
        let foreign = Data("{\"mine\": true}".utf8)
        try foreign.write(to: URL(fileURLWithPath: video + ".flamingo.json"))
        let result = try run([video])
        XCTAssertNotEqual(result.status, 0)
        XCTAssertTrue(result.stderr.contains("was not written by flamingo"), result.stderr)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: video + ".flamingo.json")), foreign)
    }

    func testStdoutPrintsTheSidecarAndWritesNothing() throws {
        let video = dir.appendingPathComponent("b.webm").path
        let result = try run(["--stdout", video])
        XCTAssertEqual(result.status, 0, result.stderr)
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: result.stdout) as? [String: Any])
        XCTAssertEqual(try JSONSchemaValidator(contentsOf: schema).validate(json), [])
        XCTAssertFalse(FileManager.default.fileExists(atPath: video + ".flamingo.json"))
    }

    /// `sampling.media: frames` (released OpenFlamingo checkpoints): one `<image>` per frame; the caption
    /// equals the library's on that prompt and per-frame media items.
    func testFramesAsSeparateMediaItems() throws {
        let pipeline = "name: frames\nsampling:\n  max_frames: 3\n  media: frames\ndecoding:\n  beams: 1\n  max_tokens: 5\ntasks:\n  - caption: {}\n"
        let file = dir.appendingPathComponent("frames.yaml")
        try pipeline.write(to: file, atomically: true, encoding: .utf8)
        let video = dir.appendingPathComponent("a.mp4").path
        let result = try TinyModel.flamingo(["run", "--pipeline", file.path, "--model", model.path, "--stdout", video], scratch: dir)
        XCTAssertEqual(result.status, 0, result.stderr)
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: result.stdout) as? [String: Any])
        XCTAssertEqual((json["frames"] as? [Double])?.count, 3)
        let caption = try XCTUnwrap((json["caption"] as? [String: Any])?["text"] as? String)

        let session = try FlamingoSession(directory: model)
        let item = try session.loadMedia(path: video, maxFrames: 3)
        let perFrame = item.pixels.count / 3
        let tokens = try (0..<3).map { f in
            try session.model.encodeMedia(pixels: Array(item.pixels[(f * perFrame)..<((f + 1) * perFrame)]), frames: 1)
        }
        let expected = try session.generate(prompt: "<image><image><image>Caption:", memory: session.model.mediaMemory(tokens),
                                            options: GenerationOptions(maxNewTokens: 5))
        XCTAssertEqual(caption, expected.text.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    func testTheSchemaValidatorCatchesViolations() throws {
        let validator = try JSONSchemaValidator(contentsOf: schema)
        let bad: [String: Any] = ["schema_version": 1, "generator": "someone", "status": "maybe", "extra": 1,
                                  "video": ["file": "x"], "model": ["name": "m", "hash": "h"], "pipeline": ["name": "p"],
                                  "created_at": "now"]
        let problems = validator.validate(bad)
        for expected in ["$.generator", "$.status", "unexpected property 'extra'", "$.video: missing required 'fingerprint'",
                         "$.pipeline: missing required 'hash'"] {
            XCTAssertTrue(problems.contains { $0.contains(expected) }, "\(expected) not in \(problems)")
        }
    }

    func testAPipelineWithAnErrorIsRefusedAtStart() throws {
        try "name: bad\ntasks:\n  - qa:\n      questoins: [x]\n".write(to: dir.appendingPathComponent("bad.yaml"), atomically: true, encoding: .utf8)
        let result = try TinyModel.flamingo(["run", "--pipeline", dir.appendingPathComponent("bad.yaml").path, "--model", model.path,
                                             dir.appendingPathComponent("a.mp4").path], scratch: dir)
        XCTAssertNotEqual(result.status, 0)
        XCTAssertTrue(result.stderr.contains("bad.yaml:4: unknown key 'questoins'"), result.stderr)
    }

    /// A pipeline asking for more frames than the model's temporal embeddings
    /// cover is refused when it is loaded, with its file and line, before any
    /// video is read (it used to fail on every file after the whole decode).
    func testPipelineTheModelCannotRunIsRefusedAtLoad() throws {
        let path = dir.appendingPathComponent("many.yaml")
        try "name: many\nsampling:\n  max_frames: 240\ntasks:\n  - caption: {}\n".write(to: path, atomically: true, encoding: .utf8)
        let video = dir.appendingPathComponent("a.mp4").path
        for command in [["run", video], ["watch", dir.path]] {
            let result = try TinyModel.flamingo(command + ["--pipeline", path.path, "--model", model.path], scratch: dir)
            XCTAssertEqual(result.status, 1, "\(command[0]): \(result.stderr)")
            XCTAssertTrue(result.stderr.contains("\(path.path):3: sampling.max_frames is 240, but the model 'model' has temporal embeddings (frame_embs) for at most 4 frames per media item"),
                          "\(command[0]): \(result.stderr)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: video + ".flamingo.json"))
    }

    /// A path named on the command line may be a symbolic link: the sidecar is written next to the
    /// link, fingerprinted for what was read (it used to fail with a false "changed while processed").
    func testCommandLineLinkGetsItsSidecar() throws {
        let link = dir.appendingPathComponent("link.mp4")
        try FileManager.default.createSymbolicLink(at: link, withDestinationURL: dir.appendingPathComponent("a.mp4"))
        let result = try run([link.path])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(try sidecar("link.mp4")["status"] as? String, "ok")
    }
}
