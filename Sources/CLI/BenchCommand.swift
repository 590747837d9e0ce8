import ArgumentParser

struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Benchmarks measured against a peer in the same run.",
        subcommands: [BenchFramesCommand.self, BenchEngineCommand.self, BenchCaptionCommand.self, BenchDecodeCommand.self, BenchDomainCommand.self, BenchTokenizerCommand.self, BenchQueueCommand.self])
}
