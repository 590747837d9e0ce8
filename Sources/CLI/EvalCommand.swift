import ArgumentParser
import Evaluation
import Foundation

/// `flamingo eval DATASET_DIR`: accuracy of a model on a labelled set.
struct EvalCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Measure a model on a labelled set (Models/eval's layout) through the full product path.",
        discussion: """
            Reads every clip at 1 frame per second, encodes it, and answers with greedy decoding: \
            question accuracy per type (balanced subset), caption exact match, the few-shot curve \
            (0, 1, 2, 4, 8 shots) and the temporal ablation (direction of moving objects and colour, \
            with the resampler's temporal embeddings as trained and zeroed). With --check-bars the exit \
            status is 1 when a quality bar of docs/WORLD.md is missed.
            """)

    @Argument(help: "Directory with labels.jsonl (and fewshot.jsonl), video paths relative to it.")
    var dataset: String

    @OptionGroup var model: ModelOption

    @Flag(help: "Print the report as JSON.")
    var json = false

    @Flag(help: "Measure the main metrics with the temporal embeddings (frame_embs) zeroed.")
    var zeroTemporalEmbeddings = false

    @Flag(help: "Exit with status 1 if any quality bar is missed.")
    var checkBars = false

    func validate() throws {
        if checkBars && zeroTemporalEmbeddings {
            throw ValidationError("--check-bars applies to the model as trained; drop --zero-temporal-embeddings")
        }
    }

    func run() async throws {
        let set: EvaluationSet
        do { set = try EvaluationSet(directory: URL(fileURLWithPath: dataset)) } catch {
            throw CLIError(error.localizedDescription)
        }
        var evaluator = Evaluator(session: try model.session(), set: set)
        evaluator.zeroTemporalEmbeddings = zeroTemporalEmbeddings
        let terminal = isatty(STDERR_FILENO) == 1
        let report = evaluator.run(progress: terminal ? Self.showProgress : nil)
        print(json ? try JSONOutput.encode(report) : report.text)
        let missed: [QualityBars.Result] = report.bars.filter { !$0.passed }
        if checkBars && !missed.isEmpty {
            throw CLIError("quality bars missed: " + missed.map { $0.name }.joined(separator: ", "))
        }
    }

    @Sendable static func showProgress(_ message: String) {
        FileHandle.standardError.write(Data((message + "\n").utf8))
    }
}
