import ArgumentParser
import Foundation
import Generation
import Pipeline

/// `flamingo generate`: one interleaved prompt, open-ended or closed-ended.
struct GenerateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Continue a prompt that interleaves text and media, or score candidate answers.",
        discussion: """
            Put one <image> in the prompt where each --media item belongs, in order, for example
            --prompt "<image>Output:" --media clip.mp4. Videos are sampled at 1 frame per second \
            (at most --max-frames, spread over the whole video). With --option the candidates are \
            scored by log-likelihood instead of generating.
            """)

    @OptionGroup var model: ModelOption
    @OptionGroup var reader: ReaderOptions

    @Option(help: "The prompt, with one <image> per media item.")
    var prompt: String

    @Option(help: "An image or video, in prompt order (repeatable).")
    var media: [String] = []

    @Option(help: "Beams for beam search (1: greedy).")
    var beams: Int = DecodingDefaults.beams

    @Option(help: "Tokens to generate at most (generation stops earlier at <|endofchunk|>).")
    var maxTokens: Int = DecodingDefaults.maxNewTokens

    @Option(help: "Beam length penalty (score / length^penalty).")
    var lengthPenalty: Double = 1.0

    @Option(help: "Frames per video at most (default: the model's temporal embeddings).")
    var maxFrames: Int?

    @Option(help: "A candidate answer to score instead of generating (repeatable).")
    var option: [String] = []

    @Flag(help: "Print JSON.")
    var json = false

    func validate() throws {
        guard beams >= 1 else { throw ValidationError("--beams must be at least 1") }
        guard maxTokens >= 1 else { throw ValidationError("--max-tokens must be at least 1") }
    }

    func run() async throws {
        let session = try model.session()
        if let maxFrames, let limit = session.model.resampler.maxFrames, maxFrames > limit {
            throw CLIError("--max-frames \(maxFrames): the model's temporal embeddings (frame_embs) cover at most \(limit) frames per media item")
        }
        try CLIError.reporting {
            let limits = try reader.limits(.commandLine)
            let items = try media.map { try session.loadMedia(path: $0, maxFrames: maxFrames, limits: limits) }
            let (memory, domain) = try session.encodeChecked(items)
            for (item, check) in zip(items, domain) {
                if let notice = session.outOfDomainNotice(item.path, check) { FileHandle.standardError.write(Data((notice + "\n").utf8)) }
            }
            if !option.isEmpty {
                let scores = try session.score(prompt: prompt, options: option, media: items, memory: memory)
                let rows = zip(option, scores).map { Sidecar.OptionScore(option: $0, logprob: $1) }
                if json { print(try JSONOutput.encode(rows)) } else {
                    for row in rows { print(String(format: "%10.4f  %@", row.logprob, row.option)) }
                }
            } else {
                let options = GenerationOptions(maxNewTokens: maxTokens, numBeams: beams, lengthPenalty: lengthPenalty)
                let result = try session.generate(prompt: prompt, media: items, options: options, memory: memory)
                if json { print(try JSONOutput.encode(Sidecar.Generated(text: result.text, logprob: result.logprob))) } else {
                    print(result.text)
                }
            }
        }
    }
}

enum JSONOutput {
    static func encode<T: Encodable>(_ value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }
}
