import ArgumentParser

@main
struct FlamingoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "flamingo",
        abstract: "Video understanding with a Flamingo visual language model.",
        subcommands: [FramesCommand.self, BenchCommand.self])
}
