import Foundation
import XCTest

/// `flamingo watch` as a subprocess, tested the way files really arrive:
/// slow chunked copies, `mv`, temp-name-then-rename, bursts, corrupt files,
/// foreign files named like sidecars, the directory removed and recreated,
/// kill -9 and SIGTERM mid-work. After each: exactly one correct sidecar per
/// video and the daemon still alive (or exited 0 when asked to stop).
final class WatchDaemonTests: XCTestCase {
    private var dir: URL!
    private var model: URL!
    private var inbox: URL!
    private var pipeline: URL!
    private var clip: URL!
    private var daemons: [Process] = []

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("watch-\(UUID().uuidString)")
        model = try TinyModel.make(in: dir)
        inbox = dir.appendingPathComponent("inbox")
        try FileManager.default.createDirectory(at: inbox, withIntermediateDirectories: true)
        clip = dir.appendingPathComponent("clip.mp4")
        try TinyModel.ffmpeg(["-f", "lavfi", "-i", "testsrc2=size=64x48:rate=10", "-t", "2", "-c:v", "libx264"], output: clip)
        pipeline = dir.appendingPathComponent("p.yaml")
        try "name: t\ndecoding: {beams: 1, max_tokens: 3}\ntasks:\n  - caption: {}\n  - qa: {questions: [ab]}\n"
            .write(to: pipeline, atomically: true, encoding: .utf8)
    }

    override func tearDownWithError() throws {
        for d in daemons where d.isRunning { kill(d.processIdentifier, SIGKILL); d.waitUntilExit() }
        try? FileManager.default.removeItem(at: dir)
    }

    private func startDaemon(extra: [String] = [], environment: [String: String] = [:]) throws -> Process {
        let runner = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        let p = Process()
        p.executableURL = runner.deletingLastPathComponent().appendingPathComponent("flamingo")
        if !environment.isEmpty { p.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
        p.arguments = ["watch", inbox.path, "--pipeline", pipeline.path, "--model", model.path,
                       "--stable-seconds", "0.6", "--rescan-seconds", "2"] + extra
        let log = dir.appendingPathComponent("daemon-\(daemons.count).log")
        FileManager.default.createFile(atPath: log.path, contents: nil)
        p.standardOutput = try FileHandle(forWritingTo: log)
        p.standardError = try FileHandle(forWritingTo: log)
        try p.run()
        daemons.append(p)
        Thread.sleep(forTimeInterval: 1.0)
        XCTAssertTrue(p.isRunning, "the daemon did not start: \(String(decoding: FileManager.default.contents(atPath: log.path) ?? Data(), as: UTF8.self))")
        return p
    }

    private func sidecar(_ name: String) -> [String: Any]? {
        guard let data = FileManager.default.contents(atPath: inbox.appendingPathComponent(name + ".flamingo.json").path) else { return nil }
        return try? JSONSerialization.jsonObject(with: data) as? [String: Any]
    }

    private func waitFor(_ timeout: Double = 40, _ condition: () -> Bool) -> Bool {
        let end = Date().addingTimeInterval(timeout)
        while Date() < end {
            if condition() { return true }
            Thread.sleep(forTimeInterval: 0.2)
        }
        return condition()
    }

    private func temporaryFiles() -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: inbox.path)) ?? []).filter { $0.hasPrefix(".flamingo-tmp-") }
    }

    private func videos() -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: inbox.path)) ?? []).filter { $0.hasSuffix(".mp4") }
    }

    func testFilesArrivingEveryWay() throws {
        let daemon = try startDaemon()
        let data = try Data(contentsOf: clip)
        // 1. A slow copy in chunks under the final name: taken only when complete.
        let slow = inbox.appendingPathComponent("slow.mp4")
        FileManager.default.createFile(atPath: slow.path, contents: nil)
        let handle = try FileHandle(forWritingTo: slow)
        for part in 0..<4 {
            try handle.write(contentsOf: data[(part * data.count / 4)..<((part + 1) * data.count / 4)])
            Thread.sleep(forTimeInterval: 0.3)
        }
        try handle.close()
        // 2. `mv` within the file system (inotify gives only MOVED_TO).
        let outside = dir.appendingPathComponent("moved.mp4")
        try data.write(to: outside)
        XCTAssertEqual(rename(outside.path, inbox.appendingPathComponent("moved.mp4").path), 0)
        // 3. A temporary name, then a rename: the temporary name is never processed.
        let partial = inbox.appendingPathComponent("renamed.mp4.part")
        try data.write(to: partial)
        Thread.sleep(forTimeInterval: 1.5)
        XCTAssertEqual(rename(partial.path, inbox.appendingPathComponent("renamed.mp4").path), 0)
        // 4. A corrupt file among good ones.
        try Data("definitely not a video".utf8).write(to: inbox.appendingPathComponent("corrupt.mp4"))
        // 5. A file named like our sidecar that is not ours.
        try data.write(to: inbox.appendingPathComponent("foreign.mp4"))
        let foreign = Data("{\"someone\": \"else\"}".utf8)
        try foreign.write(to: inbox.appendingPathComponent("foreign.mp4.flamingo.json"))

        let names = ["slow.mp4", "moved.mp4", "renamed.mp4", "corrupt.mp4"]
        XCTAssertTrue(waitFor { names.allSatisfy { sidecar($0) != nil } }, "missing sidecars: \(names.filter { sidecar($0) == nil })")
        for name in ["slow.mp4", "moved.mp4", "renamed.mp4"] {
            XCTAssertEqual(sidecar(name)?["status"] as? String, "ok", name)
            let fp = (sidecar(name)?["video"] as? [String: Any])?["fingerprint"] as? [String: Any]
            XCTAssertEqual(fp?["size"] as? Int, data.count, "\(name) was processed complete")
        }
        XCTAssertEqual((sidecar("corrupt.mp4")?["error"] as? [String: Any])?["code"] as? String, "not_a_video")
        XCTAssertNil(sidecar("renamed.mp4.part"))
        XCTAssertEqual(try Data(contentsOf: inbox.appendingPathComponent("foreign.mp4.flamingo.json")), foreign)
        XCTAssertTrue(daemon.isRunning)

        // 6. The directory removed and recreated: watched again.
        try FileManager.default.removeItem(at: inbox)
        Thread.sleep(forTimeInterval: 1)
        try FileManager.default.createDirectory(at: inbox, withIntermediateDirectories: true)
        try data.write(to: inbox.appendingPathComponent("after.mp4"))
        XCTAssertTrue(waitFor { sidecar("after.mp4")?["status"] as? String == "ok" }, "not processed after the directory came back")
        XCTAssertTrue(daemon.isRunning)
        XCTAssertEqual(temporaryFiles(), [])

        // 7. Restarting redoes nothing; a changed file is redone.
        kill(daemon.processIdentifier, SIGTERM)
        daemon.waitUntilExit()
        XCTAssertEqual(daemon.terminationStatus, 0)
        let before = try FileManager.default.attributesOfItem(atPath: inbox.appendingPathComponent("after.mp4.flamingo.json").path)[.modificationDate] as? Date
        let again = try startDaemon()
        Thread.sleep(forTimeInterval: 3)
        let after = try FileManager.default.attributesOfItem(atPath: inbox.appendingPathComponent("after.mp4.flamingo.json").path)[.modificationDate] as? Date
        XCTAssertEqual(before, after, "an up-to-date sidecar was rewritten")
        try (data + Data(count: 16)).write(to: inbox.appendingPathComponent("after.mp4"))
        XCTAssertTrue(waitFor { ((sidecar("after.mp4")?["video"] as? [String: Any])?["fingerprint"] as? [String: Any])?["size"] as? Int == data.count + 16 })
        XCTAssertTrue(again.isRunning)
    }

    /// The file that used to kill the daemon (an MP4 whose edit list starts
    /// past every frame: a trap in the reader) among five good ones: six
    /// sidecars, one an error naming the cause, and the daemon keeps running.
    func testTheFileThatCrashedTheReaderGetsAnErrorSidecar() throws {
        var bytes = [UInt8](try Data(contentsOf: clip))
        let elst = try XCTUnwrap((0..<(bytes.count - 4)).first { Array(bytes[$0..<($0 + 4)]) == Array("elst".utf8) })
        XCTAssertEqual(bytes[elst + 4], 0, "a version 0 edit list")
        // version/flags (4), entry_count (4), segment_duration (4), then media_time (4).
        let mediaTime = elst + 4 + 4 + 4 + 4
        bytes.replaceSubrange(mediaTime..<(mediaTime + 4), with: [0x7F, 0xFF, 0xFF, 0xF0])
        try Data(bytes).write(to: inbox.appendingPathComponent("crash.mp4"))
        let data = try Data(contentsOf: clip)
        for i in 0..<5 { try data.write(to: inbox.appendingPathComponent("good-\(i).mp4")) }
        let daemon = try startDaemon()
        XCTAssertTrue(waitFor(60) { videos().allSatisfy { sidecar($0) != nil } },
                      "no sidecar for \(videos().filter { sidecar($0) == nil })")
        for i in 0..<5 { XCTAssertEqual(sidecar("good-\(i).mp4")?["status"] as? String, "ok") }
        let error = try XCTUnwrap(sidecar("crash.mp4")?["error"] as? [String: Any])
        XCTAssertEqual(error["code"] as? String, "corrupt")
        XCTAssertTrue((error["message"] as? String ?? "").contains("the edit list hides every frame"), "\(error)")
        XCTAssertTrue(daemon.isRunning)
    }

    /// The formats of home collections in a watched folder: each gets a
    /// sidecar with its three samples; a media name with text inside and a
    /// RealMedia file (refused) get error sidecars that say why; notes.txt
    /// is passed over.
    func testEveryCatalogueFormatInTheInboxGetsASidecar() throws {
        let clips: [(String, [String])] = [
            ("holiday.mpg", ["-c:v", "mpeg1video", "-f", "mpeg"]), ("VTS_01_1.VOB", ["-c:v", "mpeg2video", "-f", "vob"]),
            ("clip.wmv", ["-c:v", "wmv2"]), ("old.asf", ["-c:v", "msmpeg4"]),
            ("cctv.avi", ["-c:v", "msmpeg4", "-vtag", "DIV3"]), ("cdrom.avi", ["-c:v", "cinepak"]),
            ("tape.dv", ["-target", "pal-dv"]), ("anim.gif", ["-c:v", "gif"]),
            ("real.rm", ["-c:v", "rv10", "-f", "rm"]),
        ]
        for (name, arguments) in clips {
            try TinyModel.ffmpeg(["-f", "lavfi", "-i", "testsrc2=size=160x128:rate=25", "-t", "2.5"] + arguments,
                                 output: inbox.appendingPathComponent(name))
        }
        try Data("not a video at all".utf8).write(to: inbox.appendingPathComponent("fake.mp4"))
        try Data("a note".utf8).write(to: inbox.appendingPathComponent("notes.txt"))
        let daemon = try startDaemon()
        let names = clips.map(\.0) + ["fake.mp4"]
        XCTAssertTrue(waitFor(90) { names.allSatisfy { sidecar($0) != nil } },
                      "no sidecar for \(names.filter { sidecar($0) == nil })")
        for name in clips.map(\.0) where name != "real.rm" {
            XCTAssertEqual(sidecar(name)?["status"] as? String, "ok", "\(name): \(sidecar(name) ?? [:])")
            XCTAssertEqual(sidecar(name)?["frames"] as? [Double], [0, 1, 2], name)
            // The same samples through `flamingo frames`.
            let frames = try TinyModel.flamingo(["frames", inbox.appendingPathComponent(name).path, "--json", "--size", "32"], scratch: dir)
            XCTAssertEqual(frames.status, 0, "\(name): \(frames.stderr)")
            let json = try XCTUnwrap(JSONSerialization.jsonObject(with: frames.stdout) as? [String: Any], name)
            XCTAssertEqual((json["frames"] as? [[String: Any]])?.compactMap { $0["time_s"] as? Double }, [0, 1, 2], name)
        }
        let real = try XCTUnwrap(sidecar("real.rm")?["error"] as? [String: Any])
        XCTAssertEqual(real["code"] as? String, "unsupported_format")
        XCTAssertTrue((real["message"] as? String ?? "").contains("detected as 'rm'"), "\(real)")
        XCTAssertEqual((sidecar("fake.mp4")?["error"] as? [String: Any])?["code"] as? String, "not_a_video")
        XCTAssertFalse(FileManager.default.fileExists(atPath: inbox.appendingPathComponent("notes.txt.flamingo.json").path))
        XCTAssertTrue(daemon.isRunning)
    }

    func testBurstOf300Clips() throws {
        let daemon = try startDaemon(extra: ["--jobs", "2"])
        let data = try Data(contentsOf: clip)
        for i in 0..<300 { try data.write(to: inbox.appendingPathComponent(String(format: "burst-%03d.mp4", i))) }
        XCTAssertTrue(waitFor(180) { videos().allSatisfy { sidecar($0)?["status"] as? String == "ok" } },
                      "\(videos().filter { sidecar($0) == nil }.count) clip(s) without a sidecar")
        let sidecars = try FileManager.default.contentsOfDirectory(atPath: inbox.path).filter { $0.hasSuffix(".flamingo.json") }
        XCTAssertEqual(sidecars.count, 300, "exactly one sidecar per clip")
        XCTAssertEqual(temporaryFiles(), [])
        XCTAssertTrue(daemon.isRunning)
    }

    func testKillDashNineThenRestartAndSigterm() throws {
        let data = try Data(contentsOf: clip)
        for i in 0..<40 { try data.write(to: inbox.appendingPathComponent(String(format: "k-%02d.mp4", i))) }
        let first = try startDaemon()
        XCTAssertTrue(waitFor { videos().contains { sidecar($0) != nil } })
        kill(first.processIdentifier, SIGKILL)
        first.waitUntilExit()
        // Whatever was written is complete JSON (atomic rename), never partial.
        for name in videos() {
            let path = inbox.appendingPathComponent(name + ".flamingo.json").path
            if FileManager.default.fileExists(atPath: path) { XCTAssertNotNil(sidecar(name), "corrupt sidecar for \(name)") }
        }
        let second = try startDaemon()
        XCTAssertTrue(waitFor(120) { videos().allSatisfy { sidecar($0)?["status"] as? String == "ok" } })
        XCTAssertEqual(temporaryFiles(), [], "stale temporary files are removed on restart")

        // SIGTERM during work: exit 0, no temporary files, every sidecar complete.
        for i in 0..<20 { try data.write(to: inbox.appendingPathComponent(String(format: "t-%02d.mp4", i))) }
        XCTAssertTrue(waitFor { (0..<20).contains { sidecar(String(format: "t-%02d.mp4", $0)) != nil } })
        kill(second.processIdentifier, SIGTERM)
        second.waitUntilExit()
        XCTAssertEqual(second.terminationStatus, 0)
        XCTAssertEqual(temporaryFiles(), [])
        for i in 0..<20 {
            let name = String(format: "t-%02d.mp4", i)
            if FileManager.default.fileExists(atPath: inbox.appendingPathComponent(name + ".flamingo.json").path) {
                XCTAssertEqual(sidecar(name)?["status"] as? String, "ok")
            }
        }
    }

    func testSystemdNotifications() throws {
        let socketPath = dir.appendingPathComponent("notify.sock").path
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in for (i, b) in socketPath.utf8.enumerated() { raw[i] = b } }
        let bound = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        XCTAssertEqual(bound, 0)
        var timeout = timeval(tv_sec: 15, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var messages: [String] = []
        func receive() -> String? {
            var buffer = [UInt8](repeating: 0, count: 4096)
            let n = recv(fd, &buffer, buffer.count, 0)
            return n > 0 ? String(decoding: buffer[0..<n], as: UTF8.self) : nil
        }
        try Data(contentsOf: clip).write(to: inbox.appendingPathComponent("n.mp4"))
        let daemon = try startDaemon(environment: ["NOTIFY_SOCKET": socketPath, "WATCHDOG_USEC": "4000000"])
        while let m = receive(), messages.count < 50 {
            messages.append(m)
            if messages.contains(where: { $0.hasPrefix("READY=1") }) && messages.contains("WATCHDOG=1") { break }
        }
        let ready = try XCTUnwrap(messages.first { $0.hasPrefix("READY=1") }, "\(messages)")
        XCTAssertTrue(ready.contains("1 file(s) queued"), "READY after the first scan queued the waiting file: \(ready)")
        XCTAssertTrue(messages.contains("WATCHDOG=1"))
        XCTAssertTrue(messages.contains { $0.hasPrefix("STATUS=queue") })
        kill(daemon.processIdentifier, SIGTERM)
        var stopping = false
        while let m = receive() { if m == "STOPPING=1" { stopping = true; break } }
        daemon.waitUntilExit()
        XCTAssertTrue(stopping)
        XCTAssertEqual(daemon.terminationStatus, 0)
    }

    func testPollingModeWithoutInotifyEvents() throws {
        let daemon = try startDaemon(extra: ["--poll", "0.5", "--recursive"])
        let sub = inbox.appendingPathComponent("sub")
        try FileManager.default.createDirectory(at: sub, withIntermediateDirectories: true)
        try Data(contentsOf: clip).write(to: sub.appendingPathComponent("polled.mp4"))
        XCTAssertTrue(waitFor {
            FileManager.default.fileExists(atPath: sub.appendingPathComponent("polled.mp4.flamingo.json").path)
        }, "a file in a subdirectory was not found by polling")
        XCTAssertTrue(daemon.isRunning)
    }

    func testOneInstancePerDirectory() throws {
        _ = try startDaemon()
        let result = try TinyModel.flamingo(["watch", inbox.path, "--pipeline", pipeline.path, "--model", model.path], scratch: dir)
        XCTAssertNotEqual(result.status, 0)
        XCTAssertTrue(result.stderr.contains("another flamingo watch is already watching"), result.stderr)
    }

    // MARK: crash isolation (docs/DAEMON.md)

    private func log(_ index: Int) -> String {
        String(decoding: FileManager.default.contents(atPath: dir.appendingPathComponent("daemon-\(index).log").path) ?? Data(), as: UTF8.self)
    }

    /// The daemon's child processes (its workers), whichever of its threads started them.
    private func children(of daemon: Process) -> [Int32] {
        let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(daemon.processIdentifier)/task")) ?? []
        return tasks.flatMap { task in
            ((try? String(contentsOfFile: "/proc/\(daemon.processIdentifier)/task/\(task)/children", encoding: .utf8)) ?? "")
                .split(separator: " ").compactMap { Int32($0) }
        }
    }

    /// A worker that dies on one file (SIGSEGV, as a decoder crash would) is replaced; the file is charged
    /// an attempt each time and then gets an error sidecar naming the signal; every other file flows, and
    /// the daemon stays up.
    func testAWorkerThatCrashesOnAFileIsReplacedAndTheOthersKeepFlowing() throws {
        let data = try Data(contentsOf: clip)
        try data.write(to: inbox.appendingPathComponent("poison.mp4"))
        for i in 0..<3 { try data.write(to: inbox.appendingPathComponent("good-\(i).mp4")) }
        let daemon = try startDaemon(extra: ["--max-attempts", "2"], environment: ["FLAMINGO_WORKER_FAULT": "segv:poison"])
        XCTAssertTrue(waitFor(60) { videos().allSatisfy { sidecar($0) != nil } }, "no sidecar for \(videos().filter { sidecar($0) == nil }): \(log(0))")
        for i in 0..<3 { XCTAssertEqual(sidecar("good-\(i).mp4")?["status"] as? String, "ok") }
        let error = try XCTUnwrap(sidecar("poison.mp4")?["error"] as? [String: Any], "\(sidecar("poison.mp4") ?? [:]) \(log(0))")
        XCTAssertEqual(error["code"] as? String, "worker_crashed")
        XCTAssertEqual(error["attempts"] as? Int, 2)
        XCTAssertTrue((error["message"] as? String ?? "").contains("killed by signal 11 (SIGSEGV)"), "\(error)")
        XCTAssertTrue(daemon.isRunning)
        XCTAssertEqual(log(0).components(separatedBy: "worker died").count - 1, 2, "one death per attempt")
        XCTAssertGreaterThanOrEqual(log(0).components(separatedBy: "worker started").count - 1, 2, "a new worker after a crash")
        XCTAssertFalse(FileManager.default.fileExists(atPath: inbox.appendingPathComponent(".flamingo-attempts.json").path),
                       "attempts are forgotten once every file has its final sidecar")
    }

    /// Attempts are on disk before the work starts: a daemon killed with -9 while its worker is stuck on a
    /// file (the worker notices and exits) does not retry that file forever after restarts.
    func testAttemptsSurviveKillDashNineOfTheDaemon() throws {
        try Data(contentsOf: clip).write(to: inbox.appendingPathComponent("stuck.mp4"))
        let first = try startDaemon(environment: ["FLAMINGO_WORKER_FAULT": "hang:stuck"])
        let ledger = inbox.appendingPathComponent(".flamingo-attempts.json")
        XCTAssertTrue(waitFor { FileManager.default.fileExists(atPath: ledger.path) && !children(of: first).isEmpty }, log(0))
        let workers = children(of: first)
        kill(first.processIdentifier, SIGKILL)
        first.waitUntilExit()
        XCTAssertTrue(waitFor(10) { workers.allSatisfy { kill($0, 0) != 0 } }, "the orphaned worker exits when its daemon is gone")
        let recorded = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: ledger)) as? [String: [String: Any]])
        XCTAssertEqual(recorded.values.first?["attempts"] as? Int, 1)

        let second = try startDaemon(extra: ["--max-attempts", "1"])
        XCTAssertTrue(waitFor { sidecar("stuck.mp4") != nil }, log(1))
        let error = try XCTUnwrap(sidecar("stuck.mp4")?["error"] as? [String: Any])
        XCTAssertEqual(error["code"] as? String, "worker_crashed")
        XCTAssertTrue((error["message"] as? String ?? "").contains("gave up after 1 attempt(s)"), "\(error)")
        XCTAssertTrue(second.isRunning)
    }

    /// A worker that stops answering is killed after --job-seconds; the file gets a timed_out sidecar.
    func testAHungWorkerIsKilledAfterTheJobDeadline() throws {
        let data = try Data(contentsOf: clip)
        try data.write(to: inbox.appendingPathComponent("hang.mp4"))
        try data.write(to: inbox.appendingPathComponent("fine.mp4"))
        let daemon = try startDaemon(extra: ["--max-attempts", "1", "--job-seconds", "2"], environment: ["FLAMINGO_WORKER_FAULT": "hang:hang.mp4"])
        XCTAssertTrue(waitFor(60) { videos().allSatisfy { sidecar($0) != nil } }, log(0))
        XCTAssertEqual(sidecar("fine.mp4")?["status"] as? String, "ok")
        let error = try XCTUnwrap(sidecar("hang.mp4")?["error"] as? [String: Any])
        XCTAssertEqual(error["code"] as? String, "timed_out")
        XCTAssertTrue((error["message"] as? String ?? "").contains("no result after 2 s"), "\(error)")
        XCTAssertTrue(daemon.isRunning)
    }

    /// --worker-memory-mb reaches the worker: with 64 MiB of address space it cannot even map the model,
    /// ends with an error, and the file is charged and gets its sidecar saying so.
    func testTheWorkersMemoryLimitApplies() throws {
        try Data(contentsOf: clip).write(to: inbox.appendingPathComponent("m.mp4"))
        let daemon = try startDaemon(extra: ["--max-attempts", "1", "--worker-memory-mb", "64"])
        XCTAssertTrue(waitFor { sidecar("m.mp4") != nil }, log(0))
        let error = try XCTUnwrap(sidecar("m.mp4")?["error"] as? [String: Any])
        XCTAssertEqual(error["code"] as? String, "worker_crashed")
        XCTAssertTrue((error["message"] as? String ?? "").contains("ended before answering: exited with status 1"), "\(error)")
        XCTAssertTrue(log(0).contains("Cannot allocate memory"), log(0))
        XCTAssertTrue(daemon.isRunning)
    }

    /// Links: not followed by default (said once); with --follow-symlinks, a link to a file inside the
    /// watched directory gets its sidecar next to the link, and a link to a file outside it is refused.
    func testSymbolicLinkPolicy() throws {
        let store = inbox.appendingPathComponent("store")
        try FileManager.default.createDirectory(at: store, withIntermediateDirectories: true)
        try Data(contentsOf: clip).write(to: store.appendingPathComponent("real.mp4"))
        try FileManager.default.createSymbolicLink(atPath: inbox.appendingPathComponent("inside.mp4").path, withDestinationPath: "store/real.mp4")
        try FileManager.default.createSymbolicLink(atPath: inbox.appendingPathComponent("outside.mp4").path, withDestinationPath: clip.path)
        try Data(contentsOf: clip).write(to: inbox.appendingPathComponent("plain.mp4"))

        let first = try startDaemon()
        XCTAssertTrue(waitFor { sidecar("plain.mp4") != nil }, log(0))
        Thread.sleep(forTimeInterval: 1)
        XCTAssertNil(sidecar("inside.mp4"))
        XCTAssertNil(sidecar("outside.mp4"))
        XCTAssertEqual(log(0).components(separatedBy: "symbolic link not followed (--follow-symlinks").count - 1, 2, log(0))
        kill(first.processIdentifier, SIGTERM)
        first.waitUntilExit()

        _ = try startDaemon(extra: ["--follow-symlinks"])
        XCTAssertTrue(waitFor { sidecar("inside.mp4") != nil }, log(1))
        let linked = try XCTUnwrap(sidecar("inside.mp4"))
        XCTAssertEqual(linked["status"] as? String, "ok", "\(linked)")
        XCTAssertEqual((linked["video"] as? [String: Any])?["file"] as? String, "inside.mp4")
        Thread.sleep(forTimeInterval: 2.5)  // a rescan later: still nothing for the link out of the directory
        XCTAssertNil(sidecar("outside.mp4"))
        XCTAssertEqual(log(1).components(separatedBy: "its target is not a file inside a watched directory").count - 1, 1, log(1))
        XCTAssertFalse(FileManager.default.fileExists(atPath: store.appendingPathComponent("real.mp4.flamingo.json").path))
    }

    /// A full file system, then a read-only one: the finished result waits (no partial sidecar, no
    /// temporary file, no attempt charged) and is written once space is freed or the directory is
    /// writable again. Needs mount(2) (root); skipped elsewhere.
    func testDiskFullAndReadOnlyDirectoryAreWaitedOut() throws {
        let mountPoint = dir.appendingPathComponent("small")
        try FileManager.default.createDirectory(at: mountPoint, withIntermediateDirectories: true)
        guard run("/usr/bin/mount", ["-t", "tmpfs", "-o", "size=1m", "tmpfs", mountPoint.path]) == 0 else {
            throw XCTSkip("cannot mount a tmpfs here (needs root)")
        }
        defer { _ = run("/usr/bin/umount", ["-l", mountPoint.path]) }
        inbox = mountPoint
        try Data(contentsOf: clip).write(to: inbox.appendingPathComponent("full.mp4"))
        // Fill the rest of the file system.
        let filler = inbox.appendingPathComponent("filler")
        _ = run("/usr/bin/dd", ["if=/dev/zero", "of=\(filler.path)", "bs=4096", "status=none"])
        let daemon = try startDaemon()
        XCTAssertTrue(waitFor(20) { log(0).contains("cannot write the sidecar now; will retry") }, log(0))
        XCTAssertNil(sidecar("full.mp4"))
        XCTAssertEqual(temporaryFiles(), [], "nothing partial is left")
        try FileManager.default.removeItem(at: filler)
        XCTAssertTrue(waitFor(30) { sidecar("full.mp4") != nil }, log(0))
        XCTAssertEqual(sidecar("full.mp4")?["status"] as? String, "ok")
        XCTAssertTrue(log(0).contains("writing the sidecar that could not be written before"), "the result is not computed twice: \(log(0))")

        // Read-only, then writable again: the file lands, the directory turns read-only before the daemon
        // takes it (--stable-seconds 0.6), the result waits, and is written once it is writable.
        try Data(contentsOf: clip).write(to: inbox.appendingPathComponent("ro.mp4"))
        XCTAssertEqual(run("/usr/bin/mount", ["-o", "remount,ro", mountPoint.path]), 0)
        XCTAssertTrue(waitFor(20) { log(0).components(separatedBy: "cannot write the sidecar now").count - 1 >= 2 }, log(0))
        XCTAssertNil(sidecar("ro.mp4"))
        XCTAssertEqual(run("/usr/bin/mount", ["-o", "remount,rw", mountPoint.path]), 0)
        XCTAssertTrue(waitFor(40) { sidecar("ro.mp4") != nil }, log(0))
        XCTAssertEqual(sidecar("ro.mp4")?["status"] as? String, "ok")
        XCTAssertTrue(daemon.isRunning)
        kill(daemon.processIdentifier, SIGTERM)
        daemon.waitUntilExit()
    }

    private func run(_ tool: String, _ arguments: [String]) -> Int32 {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: tool)
        p.arguments = arguments
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        guard (try? p.run()) != nil else { return -1 }
        p.waitUntilExit()
        return p.terminationStatus
    }
}
