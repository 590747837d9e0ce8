import ArgumentParser
import Foundation
import Generation
import Pipeline
import VideoIO

/// `flamingo ask VIDEO -q QUESTION ...`: short answers about one video.
struct AskCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ask",
        abstract: "Answer questions about a video (or image), each with \"<image>Question: {q} Short answer:\".",
        discussion: """
            The video is read and encoded once for all questions. JSON output: \
            [{"question": ..., "answer": ..., "logprob": ...}].
            """)

    @Argument(help: "A video or image file.")
    var video: String

    @Option(name: [.customShort("q"), .long], help: "A question (repeatable).")
    var question: [String] = []

    @OptionGroup var model: ModelOption
    @OptionGroup var decoding: DecodingOptions
    @OptionGroup var reader: ReaderOptions

    @Flag(help: "Print JSON.")
    var json = false

    @Flag(help: "Neither read nor write the visual token cache (README, \"Follow-up questions\").")
    var noCache = false

    func validate() throws {
        guard !question.isEmpty else { throw ValidationError("give at least one question with -q") }
        if let empty = question.first(where: { $0.trimmingCharacters(in: .whitespaces).isEmpty }) {
            throw ValidationError("empty question: \"\(empty)\"")
        }
    }

    func run() async throws {
        let session = try model.session()
        let rows = try CLIError.reporting {
            let (memory, domain) = try CachedVideoEncoding.memory(session: session, video: video, limits: try reader.limits(.commandLine),
                                                                  useCache: !noCache)
            if let notice = session.outOfDomainNotice(video, domain) { FileHandle.standardError.write(Data((notice + "\n").utf8)) }
            return try question.map { q in
                let result = try session.generate(prompt: Prompts.question(q), memory: memory, options: decoding.options)
                return Sidecar.Answer(question: q, answer: result.text, logprob: result.logprob)
            }
        }
        if json { print(try JSONOutput.encode(rows)) } else {
            for row in rows { print(question.count == 1 ? row.answer : "\(row.question) \(row.answer)") }
        }
    }
}
