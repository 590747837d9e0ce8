import Foundation

/// The PyTorch side of a benchmark: a script under Tests/Benchmarks that
/// builds the benchmark models, times them in PyTorch and prints one JSON
/// object of timings as its last line.
enum TorchPeer {
    static func run(python: String, script: String, arguments: [String]) throws -> [String: Double] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [script] + arguments
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0,
              let line = String(decoding: data, as: UTF8.self).split(separator: "\n").last,
              let json = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
            throw CLIError("the PyTorch peer failed (\(python) \(script))")
        }
        var timings: [String: Double] = [:]
        for (key, value) in json {
            if let number = value as? NSNumber { timings[key] = number.doubleValue }
        }
        return timings
    }
}
