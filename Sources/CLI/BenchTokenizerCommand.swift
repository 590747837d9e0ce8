import ArgumentParser
import Foundation
import Pipeline
import Tokenizer

/// `flamingo bench tokenizer`: our BPE tokenizer against Hugging Face `tokenizers` (Rust, through its
/// Python binding, Tests/Benchmarks/tokenizers_peer.py) on the same tokenizer.json and texts in one run,
/// checking that both produce the same ids.
struct BenchTokenizerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokenizer",
        abstract: "Encoding speed of a tokenizer.json against Hugging Face tokenizers, same texts, same ids checked.")

    @Option(help: "The tokenizer.json (default: the GPT-2-style test fixture, a byte-level BPE with 2,000 tokens and 1,743 merges).")
    var tokenizer: String = "Tests/TokenizerTests/Fixtures/gpt2style.tokenizer.json"

    @Option(help: "Python interpreter with tokenizers (see Tests/Fixtures/setup_reference_env.sh).")
    var python: String = ".venv-reference/bin/python"

    @Option(help: "The peer script.")
    var peer: String = "Tests/Benchmarks/tokenizers_peer.py"

    @Option(help: "Size of each text in KiB.")
    var kib: Int = 1024

    @Option(help: "Runs per text (median).")
    var runs: Int = 3

    @Flag(help: "Skip the peer.")
    var skipPeer = false

    func run() throws {
        let url = URL(fileURLWithPath: tokenizer)
        let texts = [("English-like words, repeating", Self.words(kib: kib, vocabulary: 400)),
                     ("pseudo-random words, nearly all distinct", Self.words(kib: kib, vocabulary: 0))]
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("bench-tokenizer-\(getpid())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let files = try texts.enumerated().map { i, text -> String in
            let path = directory.appendingPathComponent("text\(i).txt")
            try text.1.write(to: path, atomically: true, encoding: .utf8)
            return path.path
        }
        let theirs = skipPeer ? [:] : try TorchPeer.run(python: python, script: peer, arguments: [tokenizer] + files + ["--runs", "\(runs)"])
        let loadStart = DispatchTime.now().uptimeNanoseconds
        _ = try CLIError.reporting { try BPETokenizer(contentsOf: url) }
        let load = Double(DispatchTime.now().uptimeNanoseconds - loadStart) / 1e9
        print("tokenizer benchmark: \(tokenizer), texts of \(kib) KiB, median of \(runs) run(s), a fresh tokenizer per run (empty word cache)")
        print(String(format: "load: ours %.3f s, tokenizers %@", load, theirs["load_s"].map { String(format: "%.3f s", $0) } ?? "-"))
        for (i, text) in texts.enumerated() {
            var ids: [Int] = []
            var times: [Double] = []
            for _ in 0..<max(1, runs) {
                let fresh = try CLIError.reporting { try BPETokenizer(contentsOf: url) }
                times.append(Stopwatch.seconds { ids = fresh.encode(text.1) })
            }
            let ours = Stopwatch.median(times), mb = Double(text.1.utf8.count) / 1_048_576
            var line = String(format: "%@: ours %.3f s (%.2f MB/s, %d ids)", text.0 as NSString, ours, mb / ours, ids.count)
            if let t = theirs["text\(i)_s"] {
                let same = theirs["text\(i)_count"].map { Int($0) == ids.count } == true
                    && theirs["text\(i)_hash"].map { Int($0) == Self.idHash(ids) } == true
                line += String(format: "; tokenizers %.3f s (%.2f MB/s): %.2fx; ids %@", t, mb / t, t / ours, same ? "identical" : "DIFFER")
            }
            print(line)
        }
    }

    /// `kib` KiB of words: from a fixed vocabulary of `vocabulary` words (0: fresh pseudo-random words).
    static func words(kib: Int, vocabulary: Int) -> String {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        let letters = Array("abcdefghijklmnopqrstuvwxyz")
        func next() -> UInt64 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return state
        }
        func word() -> String {
            let r = next(), length = Int(r >> 60) + 2
            return String((0..<length).map { letters[Int((r >> UInt64($0 * 4)) % 26)] })
        }
        let fixed = (0..<max(1, vocabulary)).map { _ in word() }
        var text = ""
        while text.utf8.count < kib << 10 {
            let r = next()
            text += vocabulary > 0 ? fixed[Int(r % UInt64(vocabulary))] : word()
            text += r & 15 == 0 ? ". " : r & 31 == 1 ? ",\n" : " "
        }
        return text
    }

    /// The peer's hash of the ids: the first 48 bits of SHA-256 of "id,id,...".
    static func idHash(_ ids: [Int]) -> Int {
        let hex = SHA256.hex(Data(ids.map(String.init).joined(separator: ",").utf8))
        return Int(hex.prefix(12), radix: 16) ?? -1
    }
}
