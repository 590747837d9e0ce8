import Foundation
import Glibc

/// Runs a program as a child with posix_spawn (stdin /dev/null, stdout and
/// stderr to files, default signal dispositions, empty signal mask) and reaps
/// it with wait4, so a test sees what Foundation's Process hides: the signal
/// that ended it and its peak resident memory. Past `timeout` seconds the
/// child gets SIGKILL and `timedOut` is set.
struct MeasuredProcess {
    var status: Int32?
    /// The signal that killed the child, if one did.
    var signal: Int32?
    var timedOut = false
    /// Peak resident set size, KiB: the largest VmHWM (/proc/PID/status) read while the child ran.
    /// Not ru_maxrss: posix_spawn's vfork child shares the test process's memory until it execs, and
    /// Linux carries that memory's high-water mark into the exec'd program's ru_maxrss, so a test process
    /// that once held a large model made every child look as large (726 MiB for a 70 MiB `frames`).
    var maxResidentKiB = 0
    var seconds = 0.0
    var stdout = Data()
    var stderr = ""

    struct SpawnError: Error, CustomStringConvertible {
        let description: String
    }

    static func run(_ executable: String, _ arguments: [String], scratch: URL,
                    timeout: Double = .infinity) throws -> MeasuredProcess {
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
        var attr = posix_spawnattr_t()
        posix_spawnattr_init(&attr)
        defer { posix_spawnattr_destroy(&attr) }
        var mask = sigset_t()
        sigemptyset(&mask)
        posix_spawnattr_setsigmask(&attr, &mask)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for s in [SIGPIPE, SIGINT, SIGTERM, SIGQUIT, SIGHUP, SIGUSR1, SIGUSR2, SIGCHLD, SIGALRM] { sigaddset(&defaults, s) }
        posix_spawnattr_setsigdefault(&attr, &defaults)
        posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid = pid_t()
        let start = DispatchTime.now().uptimeNanoseconds
        let spawned = posix_spawn(&pid, executable, &actions, &attr, argv, environ)
        guard spawned == 0 else { throw SpawnError(description: "posix_spawn \(executable): \(String(cString: strerror(spawned)))") }

        var result = MeasuredProcess()
        var status: Int32 = 0
        var usage = rusage()
        var polledKiB = 0
        let elapsed = { Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 }
        while true {
            let r = wait4(pid, &status, result.timedOut ? 0 : WNOHANG, &usage)
            if r == pid { break }
            if r == -1 {
                if errno == EINTR { continue }
                throw SpawnError(description: "wait4: \(String(cString: strerror(errno)))")
            }
            if let highWater = Self.highWaterKiB(pid) { polledKiB = max(polledKiB, highWater) }
            if elapsed() > timeout {
                kill(pid, SIGKILL)
                result.timedOut = true
            } else {
                usleep(elapsed() < 1 ? 2_000 : 20_000)
            }
        }
        result.seconds = elapsed()
        // A child that ended before the first poll (2 ms) cannot have touched hundreds of MiB; ru_maxrss
        // would report the test process's own peak (see maxResidentKiB), so it is not used.
        _ = usage
        result.maxResidentKiB = polledKiB
        if status & 0x7F == 0 { result.status = (status >> 8) & 0xFF } else { result.signal = status & 0x7F }
        result.stdout = (try? Data(contentsOf: outURL)) ?? Data()
        result.stderr = (try? String(contentsOf: errURL, encoding: .utf8)) ?? ""
        return result
    }

    /// VmHWM of a running process (its current program's peak resident memory), KiB.
    static func highWaterKiB(_ pid: pid_t) -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }) else { return nil }
        return Int(line.dropFirst("VmHWM:".count).trimmingCharacters(in: .whitespaces).split(separator: " ").first ?? "")
    }

    /// The `flamingo` binary built beside the test runner.
    static var flamingo: String {
        URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
            .deletingLastPathComponent().appendingPathComponent("flamingo").path
    }
}
