import ArgumentParser
import Tensor

/// Entry point: fix OpenBLAS's kernel choice first (it is made when the
/// library loads), then run the command line.
@main
enum Flamingo {
    static func main() async {
        BLASEnvironment.reexecutingIfNeeded()
        AllocatorTuning.apply()
        await FlamingoCommand.main()
    }
}

struct FlamingoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "flamingo",
        abstract: "Video understanding with a Flamingo visual language model.",
        subcommands: [CaptionCommand.self, AskCommand.self, FramesCommand.self, FormatsCommand.self, GenerateCommand.self, EvalCommand.self, ConvertCommand.self, QuantizeCommand.self, RunCommand.self, WatchCommand.self, BenchCommand.self, InfoCommand.self, CalibrateCommand.self, SearchCommand.self, StatusCommand.self, WorkerCommand.self])
}
