import ArgumentParser

struct BenchFramesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "frames")
    func run() async throws {}
}
