import Foundation
import XCTest

/// A model directory for CLI tests: the reference fixture's weights (vocab 96,
/// frame_embs) with a byte-level tokenizer.json whose ids 0...92 are the
/// characters '!'...'}' and whose special ids match the config.
enum TinyModel {
    static func make(in dir: URL) throws -> URL {
        let model = dir.appendingPathComponent("model")
        try FileManager.default.createDirectory(at: model, withIntermediateDirectories: true)
        let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/reference/frame_embs")
        for name in ["config.json", "model.safetensors"] {
            try FileManager.default.copyItem(at: fixture.appendingPathComponent(name), to: model.appendingPathComponent(name))
        }
        var vocab: [String: Int] = [:]
        for i in 0..<93 { vocab[String(UnicodeScalar(UInt8(33 + i)))] = i }
        let added = [("<|endofchunk|>", 93), ("<image>", 94), ("<PAD>", 95)].map { token, id in
            ["id": id, "content": token, "single_word": false, "lstrip": false, "rstrip": false,
             "normalized": false, "special": true] as [String: Any]
        }
        let tokenizer: [String: Any] = [
            "version": "1.0", "truncation": NSNull(), "padding": NSNull(), "added_tokens": added,
            "normalizer": NSNull(),
            "pre_tokenizer": ["type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true],
            "post_processor": NSNull(),
            "decoder": ["type": "ByteLevel", "add_prefix_space": true, "trim_offsets": true, "use_regex": true],
            "model": ["type": "BPE", "dropout": NSNull(), "unk_token": NSNull(), "continuing_subword_prefix": NSNull(),
                      "end_of_word_suffix": NSNull(), "fuse_unk": false, "vocab": vocab, "merges": [String]()],
        ]
        try JSONSerialization.data(withJSONObject: tokenizer).write(to: model.appendingPathComponent("tokenizer.json"))
        return model
    }

    /// Makes a media file with the ffmpeg CLI from a lavfi source.
    static func ffmpeg(_ arguments: [String], output: URL) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["ffmpeg", "-nostdin", "-v", "error", "-y"] + arguments + [output.path]
        try p.run()
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0, "ffmpeg \(arguments)")
    }

    /// Runs the `flamingo` binary built beside the test runner, with its visual token cache in `scratch`
    /// (never the user's).
    static func flamingo(_ arguments: [String], scratch: URL, environment: [String: String] = [:]) throws
        -> (status: Int32, stdout: Data, stderr: String) {
        let runner = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        let process = Process()
        process.executableURL = runner.deletingLastPathComponent().appendingPathComponent("flamingo")
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment
            .merging(["FLAMINGO_CACHE_DIR": scratch.appendingPathComponent("visual-token-cache").path]) { $1 }
            .merging(environment) { $1 }
        let errURL = scratch.appendingPathComponent("stderr-\(UUID().uuidString)")
        FileManager.default.createFile(atPath: errURL.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: errURL) }
        let out = Pipe()
        process.standardOutput = out
        process.standardError = try FileHandle(forWritingTo: errURL)
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, stdout, (try? String(contentsOf: errURL, encoding: .utf8)) ?? "")
    }
}
