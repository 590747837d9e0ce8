import Foundation

/// A PyTorch peer kept running for a whole benchmark (`torch_peer.py`): it builds and writes the models
/// once, then times one call of a named workload per request, so that PyTorch's runs interleave with
/// ours and each pair of timings sees the same machine (this VM's speed drifts by tens of percent from
/// one minute to the next). The child inherits our environment (OPENBLAS_CORETYPE,
/// OPENBLAS_THREAD_TIMEOUT), so both sides run OpenBLAS the same way.
final class TorchPeerSession {
    private let process = Process()
    private let requests = Pipe()
    private let replies = Pipe()
    private var pending = Data()
    private let description: String

    /// Starts `python script arguments` and waits until it reports `ready` (lines before it, such as
    /// import notes, are skipped).
    init(python: String, script: String, arguments: [String]) throws {
        description = "\(python) \(script)"
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [script] + arguments
        process.standardInput = requests
        process.standardOutput = replies
        do {
            try process.run()
        } catch {
            throw CLIError("cannot start the PyTorch peer (\(description)): \(error.localizedDescription)")
        }
        while try nextLine() != "ready" {}
    }

    deinit {
        try? requests.fileHandleForWriting.close()
        process.waitUntilExit()
    }

    /// Wall seconds PyTorch takes for one call of `workload` ("vit", "generate" or "prefill").
    func seconds(_ workload: String) throws -> Double {
        Stopwatch.settle()
        requests.fileHandleForWriting.write(Data("\(workload)\n".utf8))
        let line = try nextLine()
        guard line.hasPrefix("seconds "), let value = Double(line.dropFirst("seconds ".count)) else {
            throw CLIError("the PyTorch peer (\(description)) answered \"\(line)\" to \(workload)")
        }
        return value
    }

    /// The peer's next line of output.
    private func nextLine() throws -> String {
        while true {
            if let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: pending[pending.startIndex..<newline], as: UTF8.self)
                pending.removeSubrange(pending.startIndex...newline)
                return line
            }
            let chunk = replies.fileHandleForReading.availableData
            if chunk.isEmpty {
                process.waitUntilExit()
                throw CLIError("the PyTorch peer (\(description)) exited with status \(process.terminationStatus)")
            }
            pending.append(chunk)
        }
    }
}
