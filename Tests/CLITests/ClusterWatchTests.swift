import Foundation
import XCTest

/// `flamingo watch --database`: workers as subprocesses sharing one inbox through a real PostgreSQL
/// server (PostgresServer), tried the way clusters fail: many workers at once, kill -9 of workers
/// mid-batch, the database restarted, a worker paused past its lease, the share mounted at two
/// places, a file removed while it is leased. After each: exactly one valid sidecar and one results
/// row per video, no job completed twice, none lost, no temporary files (docs/CLUSTER.md).
final class ClusterWatchTests: XCTestCase {
    private var dir: URL!
    private var model: URL!
    private var share: URL!
    private var inbox: URL!
    private var pipeline: URL!
    private var clip: URL!
    private var server: PostgresServer!
    private var workers: [Process] = []

    override func setUpWithError() throws {
        server = try PostgresServer()
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("cluster-\(UUID().uuidString)")
        model = try TinyModel.make(in: dir)
        share = dir.appendingPathComponent("share")
        inbox = share.appendingPathComponent("inbox")
        try FileManager.default.createDirectory(at: inbox, withIntermediateDirectories: true)
        clip = dir.appendingPathComponent("clip.mp4")
        try TinyModel.ffmpeg(["-f", "lavfi", "-i", "testsrc2=size=64x48:rate=10", "-t", "2", "-c:v", "libx264"], output: clip)
        pipeline = dir.appendingPathComponent("p.yaml")
        try "name: t\ndecoding: {beams: 1, max_tokens: 3}\ntasks:\n  - caption: {}\n  - qa: {questions: [ab]}\n"
            .write(to: pipeline, atomically: true, encoding: .utf8)
    }

    override func tearDownWithError() throws {
        // A failed test leaves its worker logs behind for reading.
        if let run = testRun, run.failureCount > 0 {
            let keep = URL(fileURLWithPath: "/tmp/flamingo-cluster-test-logs/\(name.filter { $0.isLetter || $0.isNumber })")
            try? FileManager.default.createDirectory(at: keep, withIntermediateDirectories: true)
            for index in 0..<workers.count {
                let log = dir.appendingPathComponent("worker-\(index).log")
                try? FileManager.default.removeItem(at: keep.appendingPathComponent(log.lastPathComponent))
                try? FileManager.default.copyItem(at: log, to: keep.appendingPathComponent(log.lastPathComponent))
            }
        }
        for worker in workers where worker.isRunning {
            kill(worker.processIdentifier, SIGCONT)
            kill(worker.processIdentifier, SIGKILL)
            worker.waitUntilExit()
        }
        server = nil
        try? FileManager.default.removeItem(at: dir)
    }

    private var flamingo: URL {
        URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent().appendingPathComponent("flamingo")
    }

    @discardableResult
    private func startWorker(watching directory: URL? = nil, shareRoot: URL? = nil, lease: Double = 3, shippedModel: Bool = false,
                             extra: [String] = [], environment: [String: String] = [:]) throws -> Process {
        let p = Process()
        p.executableURL = flamingo
        p.environment = ProcessInfo.processInfo.environment.merging(["FLAMINGO_DATABASE_URL": server.url]) { $1 }
            .merging(environment) { $1 }
        p.arguments = ["watch", (directory ?? inbox).path, "--share", "archive=\((shareRoot ?? share).path)",
                       "--pipeline", pipeline.path, "--stable-seconds", "0.3", "--rescan-seconds", "2",
                       "--lease-seconds", String(lease)] + (shippedModel ? [] : ["--model", model.path]) + extra
        let log = dir.appendingPathComponent("worker-\(workers.count).log")
        FileManager.default.createFile(atPath: log.path, contents: nil)
        p.standardOutput = try FileHandle(forWritingTo: log)
        p.standardError = try FileHandle(forWritingTo: log)
        try p.run()
        workers.append(p)
        return p
    }

    private func log(_ index: Int) -> String {
        (try? String(contentsOf: dir.appendingPathComponent("worker-\(index).log"), encoding: .utf8)) ?? ""
    }

    private func allLogs() -> String { (0..<workers.count).map { "--- worker \($0)\n" + log($0).suffix(3000) }.joined(separator: "\n") }

    private func sidecar(_ name: String, in directory: URL? = nil) -> [String: Any]? {
        guard let data = FileManager.default.contents(atPath: (directory ?? inbox).appendingPathComponent(name + ".flamingo.json").path) else { return nil }
        return try? JSONSerialization.jsonObject(with: data) as? [String: Any]
    }

    private func waitFor(_ timeout: Double = 60, _ condition: () -> Bool) -> Bool {
        let end = Date().addingTimeInterval(timeout)
        while Date() < end {
            if condition() { return true }
            Thread.sleep(forTimeInterval: 0.25)
        }
        return condition()
    }

    private func drop(_ count: Int, prefix: String) throws -> [String] {
        let data = try Data(contentsOf: clip)
        let names = (0..<count).map { String(format: "\(prefix)-%02d.mp4", $0) }
        // Written elsewhere and renamed in, as a finished upload arrives.
        for name in names {
            let temporary = dir.appendingPathComponent(name)
            try data.write(to: temporary)
            try FileManager.default.moveItem(at: temporary, to: inbox.appendingPathComponent(name))
        }
        return names
    }

    private func temporaryFiles() -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: inbox.path)) ?? []).filter { $0.hasPrefix(".flamingo-tmp-") }
    }

    /// Every clip has exactly one valid sidecar (ok) and one results row, every job is done and was
    /// completed exactly once, no temporary files are left.
    private func assertEachProcessedOnce(_ names: [String], file: StaticString = #filePath, line: UInt = #line) {
        for name in names {
            XCTAssertEqual(sidecar(name)?["status"] as? String, "ok", "\(name)", file: file, line: line)
        }
        let sidecars = ((try? FileManager.default.contentsOfDirectory(atPath: inbox.path)) ?? []).filter { $0.hasSuffix(".flamingo.json") }
        XCTAssertEqual(sidecars.count, names.count, "one sidecar per clip", file: file, line: line)
        XCTAssertEqual(server.integer("SELECT count(*) FROM flamingo_results WHERE status = 'ok'"), names.count, file: file, line: line)
        XCTAssertEqual(server.integer("SELECT count(*) FROM flamingo_jobs"), names.count, "one job per clip", file: file, line: line)
        XCTAssertEqual(server.integer("SELECT count(*) FROM flamingo_jobs WHERE state = 'done' AND completions = 1"), names.count,
                       "every job done, completed exactly once: \(server.query("SELECT path, state, completions FROM flamingo_jobs WHERE state <> 'done' OR completions <> 1"))",
                       file: file, line: line)
        XCTAssertEqual(temporaryFiles(), [], file: file, line: line)
    }

    func testThreeWorkersSixtyClipsDroppedAtOnce() throws {
        for _ in 0..<3 { try startWorker() }
        let names = try drop(60, prefix: "burst")
        XCTAssertTrue(waitFor(240) { names.allSatisfy { sidecar($0)?["status"] as? String == "ok" } },
                      "\(names.filter { sidecar($0) == nil }.count) clip(s) without a sidecar\n\(allLogs())")
        Thread.sleep(forTimeInterval: 1)
        assertEachProcessedOnce(names)
        let spread = server.query("SELECT written_by, count(*) FROM flamingo_results GROUP BY written_by ORDER BY 1")
        XCTAssertGreaterThanOrEqual(server.integer("SELECT count(DISTINCT written_by) FROM flamingo_results"), 2, "work spread over the workers: \(spread)")
        XCTAssertTrue(workers.allSatisfy(\.isRunning))

        // flamingo status sees the three workers and the finished queue.
        let status = try TinyModel.flamingo(["status", "--database", server.url], scratch: dir)
        XCTAssertEqual(status.status, 0, status.stderr)
        let text = String(decoding: status.stdout, as: UTF8.self)
        XCTAssertTrue(text.contains("jobs: queued 0, running 0, done 60, failed 0"), text)
        XCTAssertTrue(text.contains("workers: 3"), text)
    }

    func testManyProcessesMigratingAFreshDatabaseAtOnce() throws {
        // Eight `flamingo status` at once on an empty database: each migrates (under the advisory
        // lock) or finds the schema current; the migration is applied exactly once.
        let group = DispatchGroup()
        let results = ResultBox()
        let (url, scratch) = (server.url, dir!)
        for _ in 0..<8 {
            group.enter()
            DispatchQueue.global().async {
                let result = try? TinyModel.flamingo(["status", "--database", url], scratch: scratch)
                results.append(result?.status ?? -1, result?.stderr ?? "did not run")
                group.leave()
            }
        }
        group.wait()
        XCTAssertEqual(results.statuses, [Int32](repeating: 0, count: 8), results.errors.joined(separator: "\n"))
        XCTAssertEqual(server.query("SELECT version FROM flamingo_schema_version"), "1")
        XCTAssertEqual(server.integer("SELECT count(*) FROM flamingo_jobs"), 0)
    }

    func testKillDashNineOfRandomWorkersThroughABatch() throws {
        // Each clip takes 0.5 s longer, so that the batch lasts long enough to be interrupted often.
        let slow = ["FLAMINGO_WORKER_FAULT": "slow:kill", "FLAMINGO_WORKER_FAULT_SECONDS": "0.5"]
        for _ in 0..<3 { try startWorker(environment: slow) }
        let names = try drop(60, prefix: "kill")
        var kills = 0
        var generator = SystemRandomNumberGenerator()
        // A random worker killed with -9 every 1.5 s while the batch runs (at most 8 kills), and restarted.
        while kills < 8, !names.allSatisfy({ sidecar($0) != nil }) {
            Thread.sleep(forTimeInterval: 1.5)
            let running = workers.filter(\.isRunning)
            guard let victim = running.randomElement(using: &generator) else { break }
            kill(victim.processIdentifier, SIGKILL)
            victim.waitUntilExit()
            kills += 1
            try startWorker(environment: slow)
        }
        XCTAssertGreaterThanOrEqual(kills, 3, "the batch ended before the workers were killed a few times")
        XCTAssertTrue(waitFor(240) { names.allSatisfy { sidecar($0)?["status"] as? String == "ok" } },
                      "\(names.filter { sidecar($0) == nil }.count) clip(s) without a sidecar\n\(allLogs())")
        // Leases of killed workers expire and are rescued; let the queue settle.
        XCTAssertTrue(waitFor(30) { server.integer("SELECT count(*) FROM flamingo_jobs WHERE state <> 'done'") == 0 },
                      server.query("SELECT path, state, attempt FROM flamingo_jobs WHERE state <> 'done'"))
        assertEachProcessedOnce(names)
    }

    func testPostgreSQLRestartedMidBatch() throws {
        for _ in 0..<2 { try startWorker(environment: ["FLAMINGO_WORKER_FAULT": "slow:restart", "FLAMINGO_WORKER_FAULT_SECONDS": "0.3"]) }
        let names = try drop(30, prefix: "restart")
        XCTAssertTrue(waitFor(120) { names.contains { sidecar($0) != nil } }, allLogs())
        server.stop()
        XCTAssertFalse(names.allSatisfy { sidecar($0) != nil }, "the batch was over before the restart")
        Thread.sleep(forTimeInterval: 3)
        XCTAssertTrue(server.start(), "the server did not come back")
        XCTAssertTrue(waitFor(240) { names.allSatisfy { sidecar($0)?["status"] as? String == "ok" } },
                      "\(names.filter { sidecar($0) == nil }.count) clip(s) without a sidecar\n\(allLogs())")
        XCTAssertTrue(waitFor(30) { server.integer("SELECT count(*) FROM flamingo_jobs WHERE state <> 'done'") == 0 },
                      server.query("SELECT path, state, attempt FROM flamingo_jobs WHERE state <> 'done'") + allLogs())
        assertEachProcessedOnce(names)
        XCTAssertTrue(workers.allSatisfy(\.isRunning), "workers reconnect instead of exiting")
        let logs = (0..<workers.count).map(log).joined()
        XCTAssertTrue(logs.contains("reconnecting") || logs.contains("retrying"), "the outage is logged")
    }

    func testAWorkerPausedPastItsLeaseDoesNotPublishOverTheNewOwner() throws {
        let zombie = try startWorker(lease: 2, environment: ["FLAMINGO_WORKER_FAULT": "slow:zombie"])
        let names = try drop(1, prefix: "zombie")
        XCTAssertTrue(waitFor(60) { server.query("SELECT state FROM flamingo_jobs") == "running" }, allLogs())
        kill(zombie.processIdentifier, SIGSTOP)  // its child sleeps on; its heartbeats stop
        let owner = try startWorker(lease: 2)
        XCTAssertTrue(waitFor(60) { sidecar(names[0])?["status"] as? String == "ok" }, allLogs())
        let published = try Data(contentsOf: inbox.appendingPathComponent(names[0] + ".flamingo.json"))
        let newOwner = server.query("SELECT written_by FROM flamingo_results")
        XCTAssertTrue(newOwner.contains(":\(owner.processIdentifier):"), newOwner)
        kill(zombie.processIdentifier, SIGCONT)
        // The zombie's child finishes its slow file within 8 s of the pause; give it time to try to publish.
        XCTAssertTrue(waitFor(20) { log(0).contains("lease lost") }, allLogs())
        Thread.sleep(forTimeInterval: 1)
        XCTAssertEqual(try Data(contentsOf: inbox.appendingPathComponent(names[0] + ".flamingo.json")), published,
                       "the sidecar is the new owner's, untouched")
        XCTAssertEqual(server.query("SELECT written_by FROM flamingo_results"), newOwner)
        XCTAssertEqual(server.integer("SELECT completions FROM flamingo_jobs"), 1)
        XCTAssertEqual(server.integer("SELECT lost_leases FROM flamingo_workers WHERE id LIKE '%:\(zombie.processIdentifier):%'"), 1)
        XCTAssertTrue(zombie.isRunning, "the zombie carries on as a worker")
        XCTAssertEqual(temporaryFiles(), [])
    }

    func testSIGTERMFinishesTheJobInProgressAndAForeignSidecarEndsItsJob() throws {
        // Each clip takes 3 s longer: SIGTERM lands mid-job; the job finishes and is recorded, exit 0.
        let worker = try startWorker(lease: 3, extra: ["--stop-seconds", "30"],
                                     environment: ["FLAMINGO_WORKER_FAULT": "slow:", "FLAMINGO_WORKER_FAULT_SECONDS": "3"])
        let names = try drop(1, prefix: "term")
        XCTAssertTrue(waitFor(60) { server.query("SELECT state FROM flamingo_jobs") == "running" }, allLogs())
        kill(worker.processIdentifier, SIGTERM)
        worker.waitUntilExit()
        XCTAssertEqual(worker.terminationStatus, 0, allLogs())
        XCTAssertEqual(sidecar(names[0])?["status"] as? String, "ok", allLogs())
        XCTAssertEqual(server.query("SELECT state || ' ' || completions FROM flamingo_jobs"), "done 1")

        // A file that is not ours appears where the sidecar goes while the video is processed: left
        // alone, the job ends `failed`, the worker carries on.
        let next = try startWorker(lease: 3, environment: ["FLAMINGO_WORKER_FAULT": "slow:foreign", "FLAMINGO_WORKER_FAULT_SECONDS": "3"])
        let foreign = try drop(1, prefix: "foreign")[0]
        XCTAssertTrue(waitFor(60) { server.query("SELECT state FROM flamingo_jobs WHERE path = 'inbox/\(foreign)'") == "running" }, allLogs())
        let theirs = Data("{\"made by\": \"someone else\"}".utf8)
        try theirs.write(to: inbox.appendingPathComponent(foreign + ".flamingo.json"))
        XCTAssertTrue(waitFor(60) { server.query("SELECT state FROM flamingo_jobs WHERE path = 'inbox/\(foreign)'") == "failed" }, allLogs())
        XCTAssertEqual(try Data(contentsOf: inbox.appendingPathComponent(foreign + ".flamingo.json")), theirs)
        XCTAssertTrue(next.isRunning)
        XCTAssertEqual(temporaryFiles(), [])
    }

    func testTwoMountPointsOfTheShareMakeOneJobAndARemovedFileEndsItsJob() throws {
        // The same share mounted at a second place on "another host".
        let otherMount = dir.appendingPathComponent("mnt-other")
        try FileManager.default.createSymbolicLink(at: otherMount, withDestinationURL: share)
        let environment = ["FLAMINGO_WORKER_FAULT": "slow:removed"]
        try startWorker(environment: environment)
        try startWorker(watching: otherMount.appendingPathComponent("inbox"), shareRoot: otherMount, environment: environment)
        let names = try drop(6, prefix: "mount")
        XCTAssertTrue(waitFor(120) { names.allSatisfy { sidecar($0)?["status"] as? String == "ok" } }, allLogs())
        Thread.sleep(forTimeInterval: 1)
        assertEachProcessedOnce(names)

        let removed = try drop(1, prefix: "removed")[0]
        XCTAssertTrue(waitFor(60) { server.query("SELECT state FROM flamingo_jobs WHERE path = 'inbox/\(removed)'") == "running" }, allLogs())
        try FileManager.default.removeItem(at: inbox.appendingPathComponent(removed))
        XCTAssertTrue(waitFor(60) { server.query("SELECT state FROM flamingo_jobs WHERE path = 'inbox/\(removed)'") == "gone" }, allLogs())
        XCTAssertNil(sidecar(removed))
        XCTAssertEqual(server.integer("SELECT count(*) FROM flamingo_results WHERE path = 'inbox/\(removed)'"), 0)
        XCTAssertEqual(temporaryFiles(), [])
        XCTAssertTrue(workers.allSatisfy(\.isRunning))
    }

    func testSearchFindsTheClipsByTheirCaptionsOverPostgreSQLAndSQLite() throws {
        // The shipped model on four evaluation clips: real captions to search.
        let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        try "name: search\ndecoding: {beams: 1, max_tokens: 40}\ntasks:\n  - caption: {}\n".write(to: pipeline, atomically: true, encoding: .utf8)
        let clips = ["eval_0000.mov", "eval_0001.mov", "eval_0002.avi", "eval_0003.mkv"]
        try startWorker(lease: 10, shippedModel: true)
        for name in clips {
            try FileManager.default.copyItem(at: repository.appendingPathComponent("Models/eval/clips/\(name)"), to: inbox.appendingPathComponent(name))
        }
        XCTAssertTrue(waitFor(180) { clips.allSatisfy { sidecar($0)?["status"] as? String == "ok" } }, allLogs())
        var captions: [String: [String]] = [:]
        for name in clips {
            let text = ((sidecar(name)?["caption"] as? [String: Any])?["text"] as? String) ?? ""
            captions[name] = text.lowercased().split { !$0.isLetter }.map(String.init)
        }
        let colors = ["red", "green", "blue", "white", "yellow", "purple", "orange", "gray", "black"]
        let counts = colors.map { color in clips.filter { captions[$0]?.contains(color) ?? false }.count }
        // A word some captions have and others do not (and one none has).
        let word = try XCTUnwrap(zip(colors, counts).first { $0.1 > 0 && $0.1 < clips.count }?.0, "\(captions)")
        let expected = clips.filter { captions[$0]?.contains(word) ?? false }.sorted()
        let absent = try XCTUnwrap(zip(colors, counts).first { $0.1 == 0 }?.0)

        func found(_ arguments: [String]) throws -> [String] {
            let result = try TinyModel.flamingo(["search"] + arguments + ["--json"], scratch: dir)
            XCTAssertEqual(result.status, 0, result.stderr)
            let hits = try XCTUnwrap(try JSONSerialization.jsonObject(with: result.stdout) as? [[String: Any]])
            return hits.compactMap { ($0["path"] as? String).map { ($0 as NSString).lastPathComponent } }.sorted()
        }
        XCTAssertEqual(try found([word, "--database", server.url]), expected, "PostgreSQL, \(word): \(captions)")
        XCTAssertEqual(try found([word, "--directory", inbox.path]), expected, "SQLite, \(word): \(captions)")
        XCTAssertEqual(try found([absent, "--database", server.url]), [])
        XCTAssertEqual(try found([absent, "--directory", inbox.path]), [])
        let shape = try XCTUnwrap(captions[expected[0]]?.first { ["square", "circle", "triangle"].contains($0) })
        XCTAssertEqual(try found([word, shape + "s", "--database", server.url]),
                       expected.filter { captions[$0]?.contains(shape) ?? false }, "two words, the second stemmed")
    }
}

/// Exit statuses and stderr of processes run from several threads.
private final class ResultBox: @unchecked Sendable {
    private let lock = NSLock()
    private(set) var statuses: [Int32] = []
    private(set) var errors: [String] = []
    func append(_ status: Int32, _ error: String) { lock.withLock { statuses.append(status); errors.append(error) } }
}
