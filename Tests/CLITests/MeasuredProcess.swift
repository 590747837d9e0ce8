import Foundation
import Glibc

/// Runs a program as a child with posix_spawn and reaps it with wait4, so the
/// test sees what Foundation's Process hides: the signal that ended it and
/// its peak resident memory. stdout and stderr go to files.
struct MeasuredProcess {
    var status: Int32?
    /// The signal that killed the child, if one did.
    var signal: Int32?
    /// Peak resident set size, KiB (ru_maxrss).
    var maxResidentKiB: Int
    var stdout: Data
    var stderr: String

    static func run(_ executable: String, _ arguments: [String], scratch: URL) throws -> MeasuredProcess {
        let outURL = scratch.appendingPathComponent("out-\(UUID().uuidString)")
        let errURL = scratch.appendingPathComponent("err-\(UUID().uuidString)")
        defer {
            try? FileManager.default.removeItem(at: outURL)
            try? FileManager.default.removeItem(at: errURL)
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outURL.path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_addopen(&actions, 2, errURL.path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, executable, &actions, nil, argv, environ)
        guard spawned == 0 else { throw CocoaError(.fileReadNoPermission, userInfo: ["errno": spawned, "path": executable]) }
        var status: Int32 = 0
        var usage = rusage()
        while wait4(pid, &status, 0, &usage) < 0 && errno == EINTR {}
        let exited = status & 0x7f == 0
        return MeasuredProcess(
            status: exited ? (status >> 8) & 0xff : nil, signal: exited ? nil : status & 0x7f,
            maxResidentKiB: usage.ru_maxrss, stdout: (try? Data(contentsOf: outURL)) ?? Data(),
            stderr: (try? String(contentsOf: errURL, encoding: .utf8)) ?? "")
    }

    /// The `flamingo` binary built beside the test runner.
    static var flamingo: String {
        URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
            .deletingLastPathComponent().appendingPathComponent("flamingo").path
    }
}
