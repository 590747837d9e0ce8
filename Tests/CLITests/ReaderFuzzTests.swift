import Foundation
import TestSupport
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// The reader's fuzz corpus, run the way a user runs the product: every mutant
/// goes through `flamingo frames FILE --size 32 --json` in its own process,
/// under `prlimit --as=1536MiB` (util-linux, Essential on Debian), with a
/// wall-clock deadline and the child's peak RSS read from wait4's rusage.
///
/// Seeds are made at test time with the ffmpeg CLI (one per container/codec
/// the product reads or is about to read); mutators are structure-aware (they
/// walk ISO-BMFF boxes, EBML elements, TS packets, PS packs, RIFF chunks, GIF
/// blocks to find the field they change) plus generic byte damage. Everything
/// is deterministic: mutant #i uses its own SplitMix64 seeded from i and
/// FLAMINGO_FUZZ_SEED.
///
/// Each run must end with exit 0 and JSON whose `frames` is non-empty, or exit 1
/// with one stderr line `Error: <path>: ...`; never a signal (trap, abort,
/// segfault, OOM kill), never past the deadline, never over 512 MiB RSS.
///
/// Environment: FLAMINGO_FUZZ_COUNT (total mutants, default 1500: 1.5-3 min
/// with 2 parallel runs of a debug build on 2 cores),
/// FLAMINGO_FUZZ_SEED (base seed, default 2024), FLAMINGO_FUZZ_JOBS (parallel
/// runs, default the core count, at most 4), FLAMINGO_FUZZ_TIMEOUT (seconds per
/// run, default 60), FLAMINGO_FUZZ_FAILURES (where failing mutants are copied;
/// default a kept directory under the temporary directory), FLAMINGO_BIN (the
/// binary; default the `flamingo` built beside the test runner), FLAMINGO_FUZZ_KEEP=1
/// (keep every mutant with a .txt giving its outcome and description).
final class ReaderFuzzTests: XCTestCase {
    static let defaultCount = 1500
    static let addressSpaceLimit = 1_610_612_736  // 1536 MiB
    static let rssLimitKiB = 512 * 1024

    func testMutatedVideosNeverCrashHangOrBlowMemory() throws {
        let env = ProcessInfo.processInfo.environment
        let count = env["FLAMINGO_FUZZ_COUNT"].flatMap(Int.init) ?? Self.defaultCount
        let baseSeed = env["FLAMINGO_FUZZ_SEED"].flatMap(UInt64.init) ?? 2024
        let jobs = env["FLAMINGO_FUZZ_JOBS"].flatMap(Int.init)
            ?? min(4, max(1, ProcessInfo.processInfo.activeProcessorCount))
        let timeout = env["FLAMINGO_FUZZ_TIMEOUT"].flatMap(Double.init) ?? 60
        let binary = env["FLAMINGO_BIN"] ?? URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
            .deletingLastPathComponent().appendingPathComponent("flamingo").path
        XCTAssertTrue(FileManager.default.isExecutableFile(atPath: binary), "no flamingo binary at \(binary)")
        guard let prlimit = Self.which("prlimit") else {
            return XCTFail("prlimit not found on PATH (Debian package util-linux)")
        }

        let work = FileManager.default.temporaryDirectory.appendingPathComponent("flamingo-fuzz-\(UUID().uuidString)")
        let mutantsDir = work.appendingPathComponent("mutants")
        try FileManager.default.createDirectory(at: mutantsDir, withIntermediateDirectories: true)
        let failuresDir = env["FLAMINGO_FUZZ_FAILURES"].map { URL(fileURLWithPath: $0) }
            ?? work.appendingPathComponent("failures")

        let started = Date()
        let seeds = try Self.makeSeeds(in: work.appendingPathComponent("seeds"))
        let seedSeconds = Date().timeIntervalSince(started)
        let runner = Runner(argvPrefix: [prlimit, "--as=\(Self.addressSpaceLimit)", "--", binary, "frames"],
                            argvSuffix: ["--size", "32", "--json"], timeout: timeout)

        // Baseline: the seeds themselves. The formats the product reads today must give frames.
        var baseline: [String: Outcome] = [:]
        for seed in seeds {
            let path = mutantsDir.appendingPathComponent("seed-\(seed.name)").path
            try Data(seed.bytes).write(to: URL(fileURLWithPath: path))
            let outcome = try runner.check(path: path, scratch: mutantsDir.appendingPathComponent("seed"))
            baseline[seed.name] = outcome
            if seed.acceptedToday {
                XCTAssertEqual(outcome.label, "ok", "unmutated seed \(seed.name): \(outcome.problem ?? outcome.stderr)")
            } else {
                XCTAssertNil(outcome.problem, "unmutated seed \(seed.name)")
            }
        }
        print("reader fuzz: seeds (\(String(format: "%.1f", seedSeconds)) s to make): "
              + seeds.map { "\($0.name)=\(baseline[$0.name]!.label)" }.joined(separator: " "))

        // The schedule: mutant i -> (seed, mutator), round-robin over weighted seeds and each seed's mutators.
        let slots = seeds.indices.flatMap { Array(repeating: $0, count: seeds[$0].weight) }
        let mutatorsBySeed = seeds.map { Mutators.for($0.family) }
        var uses = Array(repeating: 0, count: seeds.count)
        let schedule: [(seed: Int, mutator: Int)] = (0..<count).map { i in
            let s = slots[i % slots.count]
            defer { uses[s] += 1 }
            return (s, uses[s] % mutatorsBySeed[s].count)
        }
        let keepAll = env["FLAMINGO_FUZZ_KEEP"] == "1"

        let results = ResultBox(count: count)
        let fuzzStart = Date()
        DispatchQueue.concurrentPerform(iterations: jobs) { worker in
            let scratch = mutantsDir.appendingPathComponent("w\(worker)")
            while let i = results.nextIndex() {
                let s = schedule[i].seed
                let mutator = mutatorsBySeed[s][schedule[i].mutator]
                let seed = seeds[s]
                var rng = SplitMix64(seed: baseSeed &+ UInt64(i) &* 0x9E37_79B9_7F4A_7C15)
                var bytes = seed.bytes
                var description: String
                var structural = mutator.structural
                if let d = mutator.apply(&bytes, &rng) {
                    description = d
                } else {
                    bytes = seed.bytes
                    description = "nothing to change; fell back to " + Generic.any(&bytes, &rng)
                    structural = false
                }
                let name = String(format: "m%05d-%@-%@.%@", i, seed.stem, mutator.name, seed.ext)
                let path = mutantsDir.appendingPathComponent(name).path
                var outcome: Outcome
                do {
                    try Data(bytes).write(to: URL(fileURLWithPath: path))
                    outcome = try runner.check(path: path, scratch: scratch)
                } catch {
                    outcome = Outcome(label: "harness_error", problem: "harness: \(error)", stderr: "", rssKiB: 0, seconds: 0)
                }
                var kept: String?
                if outcome.problem != nil {
                    try? FileManager.default.createDirectory(at: failuresDir, withIntermediateDirectories: true)
                    let copy = failuresDir.appendingPathComponent(name)
                    try? FileManager.default.removeItem(at: copy)
                    try? FileManager.default.copyItem(atPath: path, toPath: copy.path)
                    let note = "mutant #\(i) of seed \(seed.name) by \(mutator.name): \(description)\n"
                        + "problem: \(outcome.problem!)\npeak RSS: \(outcome.rssKiB) KiB, \(String(format: "%.2f", outcome.seconds)) s\n"
                        + "stderr:\n\(outcome.stderr)\nreproduce: \(runner.commandLine(for: copy.path))\n"
                    try? Data(note.utf8).write(to: failuresDir.appendingPathComponent(name + ".txt"))
                    kept = copy.path
                }
                if keepAll {
                    try? Data("\(outcome.label)\t\(description)\n".utf8).write(to: URL(fileURLWithPath: path + ".txt"))
                } else {
                    try? FileManager.default.removeItem(atPath: path)
                }
                results.store(i, Record(index: i, seed: seed.name, mutator: mutator.name, structural: structural,
                                        description: description, outcome: outcome, keptAt: kept))
            }
        }
        let fuzzSeconds = Date().timeIntervalSince(fuzzStart)
        let records = results.all()
        XCTAssertEqual(records.count, count)

        print(Self.summary(records, seeds: seeds, seconds: fuzzSeconds, jobs: jobs, binary: binary, baseSeed: baseSeed))

        // Every structure-aware mutator must have found its structure somewhere, or it is not testing anything.
        let scheduled = Dictionary(grouping: records, by: \.mutator)
        for (name, group) in scheduled where !name.hasPrefix("bytes.") && group.count >= 3 {
            XCTAssertTrue(group.contains(where: \.structural), "mutator \(name) never found its structure in \(group.count) tries")
        }
        // The mix must include both survivals and refusals, or the damage is not doing anything.
        let ok = records.filter { $0.outcome.label == "ok" }.count
        if count >= 100 {
            XCTAssertGreaterThan(ok, count / 20, "too few mutants gave frames")
            XCTAssertGreaterThan(count - ok, count / 20, "too few mutants were refused")
        }

        let failures = records.filter { $0.outcome.problem != nil }
        if keepAll {
            print("reader fuzz: FLAMINGO_FUZZ_KEEP=1: every mutant and a .txt (outcome, description) kept in \(mutantsDir.path)")
        } else {
            try? FileManager.default.removeItem(at: mutantsDir)
            try? FileManager.default.removeItem(at: work.appendingPathComponent("seeds"))
        }
        if failures.isEmpty {
            if env["FLAMINGO_FUZZ_FAILURES"] == nil && !keepAll { try? FileManager.default.removeItem(at: work) }
        } else {
            let lines = failures.prefix(40).map {
                "#\($0.index) \($0.seed) \($0.mutator) [\($0.description)]: \($0.outcome.problem!)"
            }
            XCTFail("\(failures.count) of \(count) mutants failed; the files and a .txt per file (description, stderr, "
                    + "command) are in \(failuresDir.path)\n" + lines.joined(separator: "\n")
                    + (failures.count > 40 ? "\n..." : ""))
        }
    }

    // MARK: - Seeds

    fileprivate enum Family: String, Sendable { case isoBMFF, matroska, mpegTS, mpegPS, avi, gif, other }

    fileprivate struct Seed: Sendable {
        let name: String
        let family: Family
        let weight: Int
        let acceptedToday: Bool
        let bytes: [UInt8]
        var ext: String { (name as NSString).pathExtension }
        var stem: String { (name as NSString).deletingPathExtension }
    }

    /// 96x64 testsrc2 at 15 fps, 2 s (DV: 1 s of 720x576 at 25 fps, 3.6 MB). `acceptedToday`: the
    /// unmutated file must give frames; the others may be refused (allow-list) with exit 1.
    fileprivate static func makeSeeds(in dir: URL) throws -> [Seed] {
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let x264 = ["-c:v", "libx264", "-bf", "2", "-g", "15", "-pix_fmt", "yuv420p", "-threads", "1"]
        let specs: [(String, Family, Int, Bool, [String])] = [
            ("h264.mp4", .isoBMFF, 3, true, x264 + ["-use_editlist", "1", "-f", "mp4"]),
            ("mjpeg.mov", .isoBMFF, 3, true, ["-c:v", "mjpeg", "-f", "mov"]),
            ("h264.mkv", .matroska, 3, true, x264 + ["-write_crc32", "0", "-f", "matroska"]),
            ("vp9.webm", .matroska, 3, true, ["-c:v", "libvpx-vp9", "-b:v", "100k", "-deadline", "realtime",
                                             "-cpu-used", "8", "-threads", "1", "-write_crc32", "0", "-f", "webm"]),
            ("h264.ts", .mpegTS, 3, true, x264 + ["-f", "mpegts"]),
            ("mpeg4.avi", .avi, 3, true, ["-c:v", "mpeg4", "-f", "avi"]),
            ("mpeg2.vob", .mpegPS, 1, false, ["-c:v", "mpeg2video", "-f", "vob"]),
            ("mpeg1.mpg", .mpegPS, 1, false, ["-r", "25", "-c:v", "mpeg1video", "-f", "mpeg"]),
            ("wmv2.wmv", .other, 1, false, ["-c:v", "wmv2", "-f", "asf"]),
            ("dv.dv", .other, 1, false, ["-t", "1", "-s", "720x576", "-r", "25", "-pix_fmt", "yuv420p",
                                        "-c:v", "dvvideo", "-f", "dv"]),
            ("divx3.avi", .avi, 1, false, ["-c:v", "msmpeg4", "-f", "avi"]),
            ("cinepak.avi", .avi, 1, false, ["-c:v", "cinepak", "-f", "avi"]),
            ("anim.gif", .gif, 1, false, ["-f", "gif"]),
        ]
        return try specs.map { name, family, weight, accepted, args in
            let url = dir.appendingPathComponent(name)
            try TinyModel.ffmpeg(["-f", "lavfi", "-i", "testsrc2=size=96x64:rate=15", "-t", "2"] + args, output: url)
            return Seed(name: name, family: family, weight: weight, acceptedToday: accepted,
                        bytes: [UInt8](try Data(contentsOf: url)))
        }
    }

    // MARK: - Summary

    fileprivate static func summary(_ records: [Record], seeds: [Seed], seconds: Double, jobs: Int, binary: String,
                        baseSeed: UInt64) -> String {
        var codes = Set(records.map(\.outcome.label))
        codes.remove("ok")
        let columns = ["ok"] + codes.sorted()
        func table(_ title: String, _ keys: [String], _ key: (Record) -> String) -> String {
            let groups = Dictionary(grouping: records, by: key)
            let width = max(title.count, keys.map(\.count).max() ?? 0)
            var out = title.padding(toLength: width, withPad: " ", startingAt: 0) + "  total  fallback"
            for c in columns { out += "  " + c }
            out += "  FAILED\n"
            for k in keys {
                let g = groups[k] ?? []
                if g.isEmpty { continue }
                out += k.padding(toLength: width, withPad: " ", startingAt: 0)
                out += String(format: "  %5d  %8d", g.count, g.filter { !$0.structural && !$0.mutator.hasPrefix("bytes.") }.count)
                for c in columns {
                    out += "  " + String(g.filter { $0.outcome.label == c }.count).leftPadded(c.count)
                }
                out += "  " + String(g.filter { $0.outcome.problem != nil }.count).leftPadded(6) + "\n"
            }
            return out
        }
        var mutatorNames: [String] = []
        for f in [Family.isoBMFF, .matroska, .mpegTS, .mpegPS, .avi, .gif, .other] {
            for m in Mutators.for(f) where !mutatorNames.contains(m.name) { mutatorNames.append(m.name) }
        }
        let peak = records.max { $0.outcome.rssKiB < $1.outcome.rssKiB }
        let slowest = records.max { $0.outcome.seconds < $1.outcome.seconds }
        var out = "reader fuzz: \(records.count) mutants of \(seeds.count) seeds in \(String(format: "%.1f", seconds)) s "
            + "(\(jobs) parallel runs), base seed \(baseSeed), binary \(binary)\n"
        out += table("mutator", mutatorNames, \.mutator) + "\n"
        out += table("seed", seeds.map(\.name), \.seed)
        if let peak, let slowest {
            out += "peak RSS \(peak.outcome.rssKiB / 1024) MiB (#\(peak.index) \(peak.seed) \(peak.mutator)); "
                + "slowest \(String(format: "%.2f", slowest.outcome.seconds)) s (#\(slowest.index) \(slowest.seed) \(slowest.mutator))\n"
        }
        let failures = records.filter { $0.outcome.problem != nil }
        for f in failures {
            out += "FAILED #\(f.index) \(f.seed) \(f.mutator) [\(f.description)]: \(f.outcome.problem!)"
                + (f.keptAt.map { " -> \($0)" } ?? "") + "\n"
        }
        return out
    }

    fileprivate static func which(_ tool: String) -> String? {
        for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
            let path = "\(dir)/\(tool)"
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        return nil
    }
}

private extension String {
    func leftPadded(_ width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }
}

// MARK: - Running the product

/// What one run came to. `label`: "ok", the error code read from the message, or a failure kind;
/// `problem`: nil when the run met the contract.
private struct Outcome: Sendable {
    var label: String
    var problem: String?
    var stderr: String
    var rssKiB: Int
    var seconds: Double
}

private struct Record: Sendable {
    let index: Int
    let seed: String
    let mutator: String
    let structural: Bool
    let description: String
    let outcome: Outcome
    let keptAt: String?
}

/// Work queue and results shared by the parallel workers.
private final class ResultBox: @unchecked Sendable {
    private let lock = NSLock()
    private var next = 0
    private var records: [Record?]

    init(count: Int) { records = Array(repeating: nil, count: count) }

    func nextIndex() -> Int? {
        lock.lock(); defer { lock.unlock() }
        guard next < records.count else { return nil }
        next += 1
        return next - 1
    }

    func store(_ i: Int, _ record: Record) {
        lock.lock(); defer { lock.unlock() }
        records[i] = record
    }

    func all() -> [Record] {
        lock.lock(); defer { lock.unlock() }
        return records.compactMap { $0 }
    }
}

/// Runs `prlimit --as=N -- flamingo frames PATH --size 32 --json` through `MeasuredProcess`
/// (prlimit execs flamingo, so the peak RSS is flamingo's). Past `timeout` seconds the child is
/// killed and counts as a hang.
private struct Runner: Sendable {
    let argvPrefix: [String]
    let argvSuffix: [String]
    let timeout: Double

    func commandLine(for path: String) -> String {
        (argvPrefix + [path] + argvSuffix).map { $0.contains(" ") ? "'\($0)'" : $0 }.joined(separator: " ")
    }

    func check(path: String, scratch: URL) throws -> Outcome {
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        let argv = argvPrefix + [path] + argvSuffix
        let r = try MeasuredProcess.run(argv[0], Array(argv.dropFirst()), scratch: scratch, timeout: timeout)
        let stdout = r.stdout, stderr = r.stderr
        var o = Outcome(label: "", problem: nil, stderr: stderr, rssKiB: r.maxResidentKiB, seconds: r.seconds)
        let lastLine = stderr.split(separator: "\n").last.map(String.init) ?? ""
        if r.timedOut {
            o.label = "HANG"
            o.problem = String(format: "still running after %.0f s (killed)", timeout)
        } else if let signal = r.signal {
            o.label = "SIGNAL"
            o.problem = "killed by signal \(signal) (\(Self.signalName(signal))); stderr: \(stderr.suffix(400))"
        } else if r.status == 0 {
            o.label = "ok"
            let json = try? JSONSerialization.jsonObject(with: stdout) as? [String: Any]
            if json == nil {
                o.label = "BAD_OUTPUT"
                o.problem = "exit 0 but stdout is not a JSON object: \(String(decoding: stdout.prefix(200), as: UTF8.self))"
            } else if ((json?["frames"] as? [Any]) ?? []).isEmpty {
                o.label = "BAD_OUTPUT"
                o.problem = "exit 0 but `frames` is missing or empty"
            }
        } else if r.status == 1 {
            let prefix = "Error: \(path): "
            let lines = stderr.split(separator: "\n", omittingEmptySubsequences: true)
            o.label = Self.code(of: lastLine)
            if lines.count != 1 || !stderr.hasPrefix(prefix) {
                o.label = "BAD_MESSAGE"
                o.problem = "exit 1 but stderr is not one line starting with '\(prefix)': \(stderr.prefix(400))"
            } else if !stdout.isEmpty {
                // The label stays the error code; the half-written output is the problem.
                o.problem = "exit 1 (\(o.label)) but stdout has \(stdout.count) bytes: "
                    + String(decoding: stdout.prefix(60), as: UTF8.self).debugDescription
            }
        } else {
            o.label = "EXIT_\(r.status ?? -1)"
            o.problem = "exit status \(r.status ?? -1); stderr: \(stderr.suffix(400))"
        }
        if o.problem == nil, r.maxResidentKiB > ReaderFuzzTests.rssLimitKiB {
            o.problem = "peak RSS \(r.maxResidentKiB / 1024) MiB over \(ReaderFuzzTests.rssLimitKiB / 1024) MiB (outcome \(o.label))"
            o.label = "RSS"
        }
        return o
    }

    /// The VideoIOError code behind a message (VideoIOError.errorDescription's wording).
    static func code(of message: String) -> String {
        let table: [(String, String)] = [
            (": no such file", "file_not_found"), (": cannot be read: ", "unreadable"),
            ("not a regular file", "not_a_regular_file"), (": is empty (0 bytes)", "empty_file"),
            ("bytes, over the limit of", "file_too_large"), ("is not a video or image FFmpeg can read", "not_a_video"),
            ("not on the allow-list", "unsupported_format"), (": contains no video stream", "no_video_stream"),
            ("is not supported", "unsupported_codec"), ("exceeds the limit", "resolution_too_large"),
            (": lasts at least ", "too_long"), ("video packets", "too_many_packets"), ("s deadline", "timed_out"),
            (": is corrupt: ", "corrupt"), ("changed while it was being read", "file_changed"),
            ("invalid options: ", "invalid_options"), (" failed: ", "ffmpeg_error"),
        ]
        return table.first { message.contains($0.0) }?.1 ?? "other_error"
    }

    static func signalName(_ s: Int32) -> String {
        switch s {
        case SIGILL: "SIGILL, a Swift trap"
        case SIGTRAP: "SIGTRAP, a Swift trap"
        case SIGABRT: "SIGABRT"
        case SIGSEGV: "SIGSEGV"
        case SIGBUS: "SIGBUS"
        case SIGFPE: "SIGFPE"
        case SIGKILL: "SIGKILL, e.g. the OOM killer"
        default: "signal \(s)"
        }
    }
}

// MARK: - Mutators

private struct Mutator: Sendable {
    let name: String
    /// false for the generic byte damage.
    let structural: Bool
    /// Changes the bytes and describes the change, or returns nil when the structure is absent.
    let apply: @Sendable (inout [UInt8], inout SplitMix64) -> String?
}

private enum Mutators {
    static func `for`(_ family: ReaderFuzzTests.Family) -> [Mutator] {
        // Structure-aware mutators come three times in the round-robin, generic damage once.
        let specific: [Mutator] = switch family {
        case .isoBMFF: [ISOBMFF.editList, ISOBMFF.sampleTables, ISOBMFF.timescales, ISOBMFF.dimensions, ISOBMFF.boxSizes]
        case .matroska: [Matroska.defaultDuration, Matroska.segmentDuration, Matroska.timestampScale,
                         Matroska.clusterTimestamp, Matroska.blockTimecode, Matroska.elementSize,
                         Matroska.trackFields, Matroska.indexFields]
        case .mpegTS: [MPEGTS.pts, MPEGTS.pcr, MPEGTS.continuity]
        case .mpegPS: [MPEGPS.pts, MPEGPS.scr]
        case .avi: [AVI.headers, AVI.index, AVI.chunkSizes]
        case .gif: [GIF.fields]
        case .other: []
        }
        return specific + specific + specific + Generic.all
    }
}

// MARK: Byte fields

private enum Bytes {
    static func be(_ b: [UInt8], _ at: Int, _ width: Int) -> UInt64 {
        var v: UInt64 = 0
        for i in 0..<width { v = v << 8 | UInt64(b[at + i]) }
        return v
    }

    static func setBE(_ b: inout [UInt8], _ at: Int, _ width: Int, _ value: UInt64) {
        for i in 0..<width { b[at + i] = UInt8(truncatingIfNeeded: value >> UInt64(8 * (width - 1 - i))) }
    }

    static func le(_ b: [UInt8], _ at: Int, _ width: Int) -> UInt64 {
        var v: UInt64 = 0
        for i in (0..<width).reversed() { v = v << 8 | UInt64(b[at + i]) }
        return v
    }

    static func setLE(_ b: inout [UInt8], _ at: Int, _ width: Int, _ value: UInt64) {
        for i in 0..<width { b[at + i] = UInt8(truncatingIfNeeded: value >> UInt64(8 * i)) }
    }

    static func show(_ v: UInt64, width: Int) -> String {
        let signed = width < 8 && v >> UInt64(8 * width - 1) & 1 == 1
            ? Int64(bitPattern: v | ~((1 << UInt64(8 * width)) - 1)) : Int64(bitPattern: v)
        if v < 100_000 { return "\(v)" }
        return "0x" + String(v, radix: 16) + (signed < 0 ? " (\(signed))" : "")
    }
}

/// A fixed-width integer field in a file.
private struct Field: Sendable {
    var name: String
    var offset: Int
    var width: Int
    var littleEndian = false
    /// Values worth trying on this field in particular (masked to the width).
    var extras: [UInt64] = []

    var mask: UInt64 { width >= 8 ? .max : (1 << UInt64(8 * width)) - 1 }
    func read(_ b: [UInt8]) -> UInt64 { littleEndian ? Bytes.le(b, offset, width) : Bytes.be(b, offset, width) }
    func write(_ b: inout [UInt8], _ v: UInt64) {
        littleEndian ? Bytes.setLE(&b, offset, width, v) : Bytes.setBE(&b, offset, width, v)
    }

    /// Sets the field to an interesting value; returns "name: old -> new".
    func mutate(_ b: inout [UInt8], _ rng: inout SplitMix64) -> String {
        let o = read(b)
        let m = mask
        var candidates: [UInt64] = [0, 1, o &+ 1, o &- 1, o &* 2, o &* 1000, o << 16, m, m >> 1, (m >> 1) &+ 1, m &- 1,
                                    UInt64.random(in: 0...m, using: &rng)]
        candidates += extras + extras  // field-specific values twice as likely
        var v = o
        for _ in 0..<8 where v == o { v = rng.pick(candidates) & m }
        write(&b, v)
        return "\(name): \(Bytes.show(o, width: width)) -> \(Bytes.show(v, width: width))"
    }

    /// Mutates one to three of `fields` (one most of the time).
    static func mutateSome(_ fields: [Field], _ b: inout [UInt8], _ rng: inout SplitMix64) -> String? {
        guard !fields.isEmpty else { return nil }
        let n = rng.chance(4) ? Int.random(in: 2...3, using: &rng) : 1
        return fields.shuffled(using: &rng).prefix(n).map { $0.mutate(&b, &rng) }.joined(separator: "; ")
    }
}

/// Indices of a table's entries worth touching: first, second, last and one at random.
private func someEntries(_ count: Int, _ rng: inout SplitMix64) -> [Int] {
    guard count > 0 else { return [] }
    return Array(Set([0, min(1, count - 1), count - 1, Int.random(in: 0..<count, using: &rng)])).sorted()
}

// MARK: Generic damage

private enum Generic {
    static let all: [Mutator] = [
        Mutator(name: "bytes.flip", structural: false) { b, rng in flip(&b, &rng) },
        Mutator(name: "bytes.random", structural: false) { b, rng in overwrite(&b, &rng) },
        Mutator(name: "bytes.zero", structural: false) { b, rng in zero(&b, &rng) },
        Mutator(name: "bytes.truncate", structural: false) { b, rng in truncate(&b, &rng) },
        Mutator(name: "bytes.duplicate", structural: false) { b, rng in duplicate(&b, &rng) },
        Mutator(name: "bytes.header", structural: false) { b, rng in header(&b, &rng) },
        Mutator(name: "bytes.insert", structural: false) { b, rng in insert(&b, &rng) },
        Mutator(name: "bytes.delete", structural: false) { b, rng in delete(&b, &rng) },
    ]

    static func any(_ b: inout [UInt8], _ rng: inout SplitMix64) -> String {
        let m = rng.pick(all)
        return m.name + " " + (m.apply(&b, &rng) ?? "")
    }

    static func flip(_ b: inout [UInt8], _ rng: inout SplitMix64) -> String {
        let n = Int.random(in: 1...40, using: &rng)
        for _ in 0..<n { b[Int.random(in: 0..<b.count, using: &rng)] ^= UInt8(1 << Int.random(in: 0..<8, using: &rng)) }
        return "\(n) bit flips"
    }

    static func overwrite(_ b: inout [UInt8], _ rng: inout SplitMix64) -> String {
        let start = Int.random(in: 0..<b.count, using: &rng), end = min(b.count, start + Int.random(in: 1...2048, using: &rng))
        for i in start..<end { b[i] = UInt8.random(in: 0...255, using: &rng) }
        return "random bytes at \(start)..<\(end)"
    }

    static func zero(_ b: inout [UInt8], _ rng: inout SplitMix64) -> String {
        let start = Int.random(in: 0..<b.count, using: &rng), end = min(b.count, start + Int.random(in: 1...4096, using: &rng))
        for i in start..<end { b[i] = 0 }
        return "zeroed \(start)..<\(end)"
    }

    static func truncate(_ b: inout [UInt8], _ rng: inout SplitMix64) -> String {
        let n = rng.chance(3) ? Int.random(in: 1..<min(b.count, 4096), using: &rng) : Int.random(in: 1..<b.count, using: &rng)
        b.removeSubrange(n...)
        return "truncated to \(n) bytes"
    }

    static func duplicate(_ b: inout [UInt8], _ rng: inout SplitMix64) -> String {
        let from = Int.random(in: 0..<b.count, using: &rng), to = Int.random(in: 0..<b.count, using: &rng)
        let len = min(Int.random(in: 1...4096, using: &rng), b.count - max(from, to))
        let chunk = Array(b[from..<from + len])
        b.replaceSubrange(to..<to + len, with: chunk)
        return "copied \(len) bytes from \(from) over \(to)"
    }

    static func header(_ b: inout [UInt8], _ rng: inout SplitMix64) -> String {
        let n = Int.random(in: 1...8, using: &rng)
        for _ in 0..<n { b[Int.random(in: 0..<min(b.count, 512), using: &rng)] = UInt8.random(in: 0...255, using: &rng) }
        return "\(n) random bytes in the first 512"
    }

    static func insert(_ b: inout [UInt8], _ rng: inout SplitMix64) -> String {
        let at = Int.random(in: 0...b.count, using: &rng), len = Int.random(in: 1...4096, using: &rng)
        if rng.chance(2) {
            let from = Int.random(in: 0..<b.count, using: &rng)
            let chunk = Array(b[from..<min(b.count, from + len)])
            b.insert(contentsOf: chunk, at: at)
            return "inserted a copy of \(chunk.count) bytes from \(from) at \(at)"
        }
        b.insert(contentsOf: (0..<len).map { _ in UInt8.random(in: 0...255, using: &rng) }, at: at)
        return "inserted \(len) random bytes at \(at)"
    }

    static func delete(_ b: inout [UInt8], _ rng: inout SplitMix64) -> String {
        let at = Int.random(in: 0..<b.count, using: &rng), end = min(b.count, at + Int.random(in: 1...4096, using: &rng))
        b.removeSubrange(at..<end)
        return "deleted \(at)..<\(end)"
    }
}

// MARK: ISO-BMFF (MP4, MOV)

private enum ISOBMFF {
    struct Box {
        let type: String
        let start: Int
        let header: Int
        let end: Int
        let parentEnd: Int
        var body: Range<Int> { start + header..<end }
    }

    static let containers: Set<String> = ["moov", "trak", "mdia", "minf", "stbl", "edts", "dinf", "mvex", "moof", "traf"]

    /// Every box, depth first, into the containers above.
    static func boxes(_ b: [UInt8]) -> [Box] {
        var out: [Box] = []
        func walk(_ range: Range<Int>) {
            var at = range.lowerBound
            while at + 8 <= range.upperBound {
                var size = Int(Bytes.be(b, at, 4)), header = 8
                if size == 1 {
                    guard at + 16 <= range.upperBound, let large = Int(exactly: Bytes.be(b, at + 8, 8)) else { return }
                    size = large
                    header = 16
                } else if size == 0 {
                    size = range.upperBound - at
                }
                guard size >= header, size <= range.upperBound - at else { return }
                let box = Box(type: String(decoding: b[at + 4..<at + 8], as: UTF8.self), start: at, header: header,
                              end: at + size, parentEnd: range.upperBound)
                out.append(box)
                if containers.contains(box.type) { walk(box.body) }
                at += size
            }
        }
        walk(0..<b.count)
        return out
    }

    static func fields(_ b: [UInt8], _ types: Set<String>, _ rng: inout SplitMix64,
                       _ make: (Box, Int, inout SplitMix64) -> [Field]) -> [Field] {
        boxes(b).filter { types.contains($0.type) && $0.body.count >= 8 }.flatMap { make($0, $0.body.lowerBound, &rng) }
            .filter { $0.offset + $0.width <= b.count }
    }

    static let countExtras: [UInt64] = [0, 0x7FFF_FFFF, 0xFFFF_FFFF, 0x1000_0000, 0x0100_0000, 0x10_0000]

    /// elst: entry_count, segment_duration, media_time (huge, negative, zero, -1), media_rate.
    static let editList = Mutator(name: "mp4.elst", structural: true) { b, rng in
        let f = fields(b, ["elst"], &rng) { box, at, rng in
            let v1 = b[at] == 1, w = v1 ? 8 : 4, entry = v1 ? 20 : 12
            let count = Int(Bytes.be(b, at + 4, 4))
            var out = [Field(name: "elst.entry_count", offset: at + 4, width: 4, extras: countExtras + [UInt64(count + 1)])]
            for i in someEntries(min(count, (box.body.count - 8) / entry), &rng) {
                let e = at + 8 + i * entry
                out.append(Field(name: "elst[\(i)].segment_duration", offset: e, width: w, extras: [0, 0xFFFF_FFFF, 0x7FFF_FFFF]))
                out.append(Field(name: "elst[\(i)].media_time", offset: e + w, width: w,
                                 extras: [0, 0x7FFF_FFF0, 0xFFFF_FFFF_FFFF_FFFF, 0xFFFF_FFFF_FFFF_FFFE, 0x8000_0000,
                                          0xFFFF_FFFF_FFFF_0000]))
                out.append(Field(name: "elst[\(i)].media_rate", offset: e + 2 * w, width: 4, extras: [0, 0x0001_0000, 0xFFFF_0000]))
            }
            return out
        }
        return Field.mutateSome(f, &b, &rng)
    }

    /// stts/ctts/stsz/stsc/stco/co64/stss: entry counts and sample counts inflated or zeroed, deltas huge or zero.
    static let sampleTables = Mutator(name: "mp4.sampleTable", structural: true) { b, rng in
        let f = fields(b, ["stts", "ctts", "stsz", "stsc", "stco", "co64", "stss"], &rng) { box, at, rng in
            let t = box.type
            let count = Int(Bytes.be(b, at + 4, 4))
            let countField = { (offset: Int) in
                Field(name: "\(t).entry_count", offset: offset, width: 4, extras: countExtras + [UInt64(count + 1)])
            }
            func entries(_ first: Int, _ size: Int, _ n: Int, _ make: (Int, Int) -> [Field]) -> [Field] {
                someEntries(min(n, max(0, (box.end - first) / size)), &rng).flatMap { make($0, first + $0 * size) }
            }
            switch t {
            case "stts":
                return [countField(at + 4)] + entries(at + 8, 8, count) { i, e in
                    [Field(name: "stts[\(i)].sample_count", offset: e, width: 4, extras: countExtras),
                     Field(name: "stts[\(i)].sample_delta", offset: e + 4, width: 4, extras: [0, 0xFFFF_FFFF, 0x8000_0000, 0x7FFF_FFFF])]
                }
            case "ctts":
                return [countField(at + 4)] + entries(at + 8, 8, count) { i, e in
                    [Field(name: "ctts[\(i)].sample_count", offset: e, width: 4, extras: countExtras),
                     Field(name: "ctts[\(i)].sample_offset", offset: e + 4, width: 4,
                           extras: [0, 0x7FFF_FFFF, 0x8000_0000, 0xFFFF_FFFF, 0xFFFF_F000])]
                }
            case "stsz":
                let uniform = Bytes.be(b, at + 4, 4)
                let n = Int(Bytes.be(b, at + 8, 4))
                return [Field(name: "stsz.sample_size", offset: at + 4, width: 4, extras: [0, 0xFFFF_FFFF, 0x7FFF_FFFF]),
                        Field(name: "stsz.sample_count", offset: at + 8, width: 4, extras: countExtras + [UInt64(n + 1)])]
                    + (uniform != 0 ? [] : entries(at + 12, 4, n) { i, e in
                        [Field(name: "stsz[\(i)]", offset: e, width: 4, extras: [0, 0xFFFF_FFFF, 0x7FFF_FFFF, 0x0100_0000])]
                    })
            case "stsc":
                return [countField(at + 4)] + entries(at + 8, 12, count) { i, e in
                    [Field(name: "stsc[\(i)].first_chunk", offset: e, width: 4, extras: [0, 0xFFFF_FFFF]),
                     Field(name: "stsc[\(i)].samples_per_chunk", offset: e + 4, width: 4, extras: countExtras),
                     Field(name: "stsc[\(i)].sample_description_index", offset: e + 8, width: 4, extras: [0, 2])]
                }
            case "stco", "co64":
                let w = t == "co64" ? 8 : 4
                return [countField(at + 4)] + entries(at + 8, w, count) { i, e in
                    [Field(name: "\(t)[\(i)]", offset: e, width: w, extras: [0, 0xFFFF_FFF0])]
                }
            default:  // stss
                return [countField(at + 4)] + entries(at + 8, 4, count) { i, e in
                    [Field(name: "stss[\(i)]", offset: e, width: 4, extras: [0, 0xFFFF_FFFF, UInt64(count) * 1000])]
                }
            }
        }
        return Field.mutateSome(f, &b, &rng)
    }

    /// mdhd/mvhd time scale and duration: 0, 1, huge.
    static let timescales = Mutator(name: "mp4.timescale", structural: true) { b, rng in
        let f = fields(b, ["mdhd", "mvhd"], &rng) { box, at, _ in
            let v1 = b[at] == 1
            let scale = at + (v1 ? 20 : 12)
            return [Field(name: "\(box.type).timescale", offset: scale, width: 4, extras: [0, 1, 0xFFFF_FFFF, 0x7FFF_FFFF, 1_000_000_000]),
                    Field(name: "\(box.type).duration", offset: scale + 4, width: v1 ? 8 : 4,
                          extras: [0, 1, 0xFFFF_FFFF, 0x7FFF_FFFF_FFFF_FFFF, 0xFFFF_FFFF_FFFF_FFFF])]
        }
        return Field.mutateSome(f, &b, &rng)
    }

    /// tkhd width/height (16.16) and duration; the visual sample entry's width/height.
    static let dimensions = Mutator(name: "mp4.tkhd", structural: true) { b, rng in
        let fixed: [UInt64] = [0, 0xFFFF_0000, 0x7FFF_0000, 0x8000_0000, 0x2000_0000, 0x0000_8000, 0x0001_0000]
        var f = fields(b, ["tkhd"], &rng) { box, at, _ in
            let v1 = b[at] == 1
            let dims = at + (v1 ? 88 : 76)
            return [Field(name: "tkhd.width", offset: dims, width: 4, extras: fixed),
                    Field(name: "tkhd.height", offset: dims + 4, width: 4, extras: fixed),
                    Field(name: "tkhd.duration", offset: at + (v1 ? 28 : 20), width: v1 ? 8 : 4, extras: [0, 0xFFFF_FFFF])]
        }
        f += fields(b, ["stsd"], &rng) { box, at, _ in
            // First sample entry: size, type, 6 reserved, data_reference_index, 16 bytes, width, height.
            let entry = at + 8
            guard entry + 36 <= box.end else { return [] }
            return [Field(name: "stsd[0].width", offset: entry + 32, width: 2, extras: [0, 0xFFFF, 0x4000]),
                    Field(name: "stsd[0].height", offset: entry + 34, width: 2, extras: [0, 0xFFFF, 0x4000])]
        }
        return Field.mutateSome(f, &b, &rng)
    }

    /// Box size fields: 0 (to the end), 1 (64-bit size follows), smaller than the header, overrunning the parent.
    static let boxSizes = Mutator(name: "mp4.boxSize", structural: true) { b, rng in
        let all = boxes(b)
        guard !all.isEmpty else { return nil }
        let box = rng.pick(all)
        let size = UInt64(box.end - box.start)
        let width = box.header == 16 ? 8 : 4
        let field = Field(name: "\(box.type)@\(box.start).size", offset: box.header == 16 ? box.start + 8 : box.start,
                          width: width, extras: [0, 1, 7, 8, size + 1, size &- 1, size + 8, UInt64(box.parentEnd - box.start + 1),
                                                 0xFFFF_FFFF, size * 2])
        return field.mutate(&b, &rng)
    }
}

// MARK: Matroska / WebM (EBML)

private enum Matroska {
    struct Element {
        let id: UInt64
        let start: Int
        let idLength: Int
        let sizeLength: Int
        let unknownSize: Bool
        let body: Range<Int>
        let parent: Int?
        var end: Int { body.upperBound }
        var sizeOffset: Int { start + idLength }
    }

    static let segment: UInt64 = 0x1853_8067, cluster: UInt64 = 0x1F43_B675, void: UInt64 = 0xEC
    static let masters: Set<UInt64> = [
        0x1A45_DFA3, segment, 0x114D_9B74, 0x4DBB, 0x1549_A966, 0x1654_AE6B, 0xAE, 0xE0, 0xE1, cluster, 0xA0,
        0x1C53_BB6B, 0xBB, 0xB7, 0x1254_C367, 0x7373, 0x63C0, 0x67C8, 0x1043_A770, 0x6D80, 0x6240, 0x55B0,
    ]

    static func vint(_ b: [UInt8], _ at: Int, end: Int, keepMarker: Bool) -> (value: UInt64, length: Int)? {
        guard at < end, b[at] != 0 else { return nil }
        let length = b[at].leadingZeroBitCount + 1
        guard at + length <= end else { return nil }
        var value = keepMarker ? UInt64(b[at]) : UInt64(b[at] & (0xFF >> length))
        for i in 1..<length { value = value << 8 | UInt64(b[at + i]) }
        return (value, length)
    }

    static func encodeVint(_ value: UInt64, length: Int) -> [UInt8] {
        var out = (0..<length).map { UInt8(truncatingIfNeeded: value >> UInt64(8 * (length - 1 - $0))) }
        out[0] |= UInt8(0x80 >> (length - 1))
        return out
    }

    /// Largest size a vint of `length` bytes holds (all ones means "unknown").
    static func maxSize(_ length: Int) -> UInt64 { (1 << UInt64(7 * length)) - 2 }

    /// Every element, depth first, into the masters above.
    static func elements(_ b: [UInt8]) -> [Element] {
        var out: [Element] = []
        func walk(_ range: Range<Int>, parent: Int?) {
            var at = range.lowerBound
            while at < range.upperBound {
                guard let id = vint(b, at, end: range.upperBound, keepMarker: true),
                      let size = vint(b, at + id.length, end: range.upperBound, keepMarker: false) else { return }
                let bodyStart = at + id.length + size.length
                let unknown = size.value == (1 << UInt64(7 * size.length)) - 1
                guard unknown || size.value <= UInt64(range.upperBound - bodyStart) else { return }
                let bodyEnd = unknown ? range.upperBound : bodyStart + Int(size.value)
                out.append(Element(id: id.value, start: at, idLength: id.length, sizeLength: size.length,
                                   unknownSize: unknown, body: bodyStart..<bodyEnd, parent: parent))
                if masters.contains(id.value) { walk(bodyStart..<bodyEnd, parent: out.count - 1) }
                at = bodyEnd
            }
        }
        walk(0..<b.count, parent: nil)
        return out
    }

    /// Replaces element `index` with `replacement` (whole element), re-encoding every ancestor's size up to
    /// the Segment's child, and keeps all later offsets by shrinking (or growing) a Void element that precedes
    /// that child at the Segment's level; SeekPosition and CueClusterPosition values of the elements that moved
    /// are corrected. Returns nil when there is no such Void or it is too small.
    static func replace(_ b: [UInt8], _ all: [Element], index: Int, with replacement: [UInt8]) -> [UInt8]? {
        var newBytes = replacement
        var old = all[index].start..<all[index].end
        var current = index
        while let p = all[current].parent, all[p].id != segment {
            let a = all[p]
            let body = Array(b[a.body.lowerBound..<old.lowerBound]) + newBytes + Array(b[old.upperBound..<a.body.upperBound])
            let idBytes = Array(b[a.start..<a.start + a.idLength])
            if a.unknownSize {
                newBytes = Array(b[a.start..<a.body.lowerBound]) + body
            } else {
                var length = a.sizeLength
                while UInt64(body.count) > maxSize(length) { length += 1 }
                guard length <= 8 else { return nil }
                newBytes = idBytes + encodeVint(UInt64(body.count), length: length) + body
            }
            old = a.start..<a.end
            current = p
        }
        guard let seg = all[current].parent else { return nil }
        let top = all[current]
        let delta = newBytes.count - old.count
        if delta == 0 {
            var out = b
            out.replaceSubrange(old, with: newBytes)
            return out
        }
        guard let v = all.lastIndex(where: { $0.parent == seg && $0.id == void && $0.end <= top.start }) else { return nil }
        let voidElement = all[v]
        let newVoidSize = voidElement.body.count - delta
        guard newVoidSize >= 0, UInt64(newVoidSize) <= maxSize(voidElement.sizeLength) else { return nil }
        var out = Array(b[..<voidElement.start])
        out += [0xEC] + encodeVint(UInt64(newVoidSize), length: voidElement.sizeLength) + Array(repeating: 0, count: newVoidSize)
        out += b[voidElement.end..<top.start]
        out += newBytes
        out += b[top.end...]
        // Positions (relative to the Segment's body) of the elements between the Void and the edit moved by -delta.
        let segmentBody = all[seg].body.lowerBound
        for e in elements(out) where e.id == 0x53AC || e.id == 0xF1 {
            let w = e.body.count
            guard (1...8).contains(w) else { continue }
            let pos = Bytes.be(out, e.body.lowerBound, w)
            guard pos < 1 << 40 else { continue }
            let absolute = segmentBody + Int(pos)
            if absolute >= voidElement.end && absolute <= top.start {
                Bytes.setBE(&out, e.body.lowerBound, w, UInt64(Int(pos) - delta))
            }
        }
        return out
    }

    /// Sets an unsigned-integer element to `value`, widening it (up to 8 bytes) when it does not fit.
    static func setUInt(_ b: inout [UInt8], _ all: [Element], index: Int, _ value: UInt64) -> String {
        let e = all[index]
        var needed = 1
        while needed < 8 && value >> UInt64(8 * needed) != 0 { needed += 1 }
        if needed <= e.body.count {
            Bytes.setBE(&b, e.body.lowerBound, e.body.count, value)
            return "in place, \(e.body.count) bytes"
        }
        let idBytes = Array(b[e.start..<e.start + e.idLength])
        var data = [UInt8](repeating: 0, count: 8)
        Bytes.setBE(&data, 0, 8, value)
        if let widened = replace(b, all, index: index, with: idBytes + [0x88] + data) {
            b = widened
            return "widened to 8 bytes"
        }
        Bytes.setBE(&b, e.body.lowerBound, e.body.count, value)
        let kept = Bytes.be(b, e.body.lowerBound, e.body.count)
        return "no room to widen: kept \(e.body.count) bytes, so \(Bytes.show(kept, width: 8))"
    }

    static func uintMutator(_ name: String, ids: Set<UInt64>, label: @escaping @Sendable (UInt64) -> String,
                            extras: [UInt64]) -> Mutator {
        Mutator(name: name, structural: true) { b, rng in
            let all = elements(b)
            let targets = all.indices.filter { ids.contains(all[$0].id) && (1...8).contains(all[$0].body.count) }
            guard !targets.isEmpty else { return nil }
            let i = rng.pick(targets)
            let e = all[i]
            let o = Bytes.be(b, e.body.lowerBound, e.body.count)
            let candidates: [UInt64] = [0, 1, o &+ 1, o &- 1, o &* 1000, o << 20, .max, UInt64(Int64.max), 1 << 62, 1 << 32,
                                        UInt64(e.body.count < 8 ? (1 << UInt64(8 * e.body.count)) - 1 : .max),
                                        UInt64.random(in: 0...UInt64.max, using: &rng)] + extras + extras
            var v = o
            for _ in 0..<8 where v == o { v = rng.pick(candidates) }
            let how = setUInt(&b, all, index: i, v)
            return "\(label(e.id))@\(e.start): \(Bytes.show(o, width: 8)) -> \(Bytes.show(v, width: 8)) (\(how))"
        }
    }

    /// TrackEntry DefaultDuration (ns per frame): 0, 1 ns, 1000 s, 2^64-1.
    static let defaultDuration = uintMutator("mkv.defaultDuration", ids: [0x23_E383], label: { _ in "DefaultDuration" },
                                             extras: [0, 1, 1_000_000_000_000, 14_400_000_000_000, 1 << 63])
    /// Info TimestampScale (ns per tick): 0, 1, 1 s, huge.
    static let timestampScale = uintMutator("mkv.timestampScale", ids: [0x2A_D7B1], label: { _ in "TimestampScale" },
                                            extras: [0, 1, 1000, 1_000_000_000, 1_000_000_000_000, 0xFF_FFFF])
    /// Cluster Timestamp: huge, backwards, just past the 4 h limit.
    static let clusterTimestamp = uintMutator("mkv.clusterTimestamp", ids: [0xE7], label: { _ in "Cluster.Timestamp" },
                                              extras: [0, 14_400_001, 1_000_000_000, 1 << 40, 1 << 62, 0xFFFF])
    /// Video track fields: PixelWidth/Height, TrackNumber, TrackType, FlagLacing, CodecDelay.
    static let trackFields = uintMutator("mkv.track", ids: [0xB0, 0xBA, 0xD7, 0x83, 0x9C, 0x56AA],
                                         label: { ["PixelWidth", "PixelHeight", "TrackNumber", "TrackType", "FlagLacing",
                                                   "CodecDelay"][[0xB0, 0xBA, 0xD7, 0x83, 0x9C, 0x56AA].firstIndex(of: $0) ?? 0] },
                                         extras: [0, 2, 0x4000, 0xFFFF, 0x7FFF_FFFF])

    /// Info Duration (float, in ticks): 0, negative, NaN, infinities, huge, tiny, just past 4 h.
    static let segmentDuration = Mutator(name: "mkv.segmentDuration", structural: true) { b, rng in
        let all = elements(b)
        guard let e = all.first(where: { $0.id == 0x4489 && ($0.body.count == 4 || $0.body.count == 8) }) else { return nil }
        let values: [Double] = [0, -0.0, -1, -1e300, .nan, .infinity, -.infinity, 1e300, .greatestFiniteMagnitude,
                                .leastNonzeroMagnitude, 1e-300, 14_400_001, 1e10, 1e15, 9.3e18, 2000.5]
        let v = rng.pick(values)
        let o: Double = e.body.count == 8 ? Double(bitPattern: Bytes.be(b, e.body.lowerBound, 8))
            : Double(Float(bitPattern: UInt32(Bytes.be(b, e.body.lowerBound, 4))))
        if e.body.count == 8 {
            Bytes.setBE(&b, e.body.lowerBound, 8, v.bitPattern)
        } else {
            Bytes.setBE(&b, e.body.lowerBound, 4, UInt64(Float(v).bitPattern))
        }
        return "Info.Duration (\(e.body.count * 8)-bit float): \(o) -> \(v)"
    }

    /// SimpleBlock/Block relative timecode (int16 after the track number).
    static let blockTimecode = Mutator(name: "mkv.blockTimecode", structural: true) { b, rng in
        let all = elements(b)
        let blocks = all.filter { ($0.id == 0xA3 || $0.id == 0xA1) && $0.body.count >= 4 }
        guard !blocks.isEmpty else { return nil }
        let n = rng.chance(3) ? Int.random(in: 2...6, using: &rng) : 1
        var notes: [String] = []
        for _ in 0..<n {
            let block = rng.pick(blocks)
            guard let track = vint(b, block.body.lowerBound, end: block.body.upperBound, keepMarker: false),
                  block.body.lowerBound + track.length + 2 <= block.end else { continue }
            let f = Field(name: "Block@\(block.start).timecode", offset: block.body.lowerBound + track.length, width: 2,
                          extras: [0x7FFF, 0x8000, 0xFFFF, 0, 0x4000, 0xC000])
            notes.append(f.mutate(&b, &rng))
        }
        return notes.isEmpty ? nil : notes.joined(separator: "; ")
    }

    /// An element's size (same vint length): 0, +-1, overrunning the parent, the largest, unknown (all ones).
    static let elementSize = Mutator(name: "mkv.elementSize", structural: true) { b, rng in
        let all = elements(b)
        guard !all.isEmpty else { return nil }
        // Half the time a master (Segment, Cluster, Tracks...), where sizes decide what the demuxer sees next.
        let masterElements = all.filter { masters.contains($0.id) }
        let e = rng.chance(2) && !masterElements.isEmpty ? rng.pick(masterElements) : rng.pick(all)
        let size = UInt64(e.body.count)
        let parentEnd = e.parent.map { all[$0].end } ?? b.count
        let maxValue = maxSize(e.sizeLength)
        let v = rng.pick([0, 1, size &+ 1, size &- 1, size &+ 1000, UInt64(parentEnd - e.body.lowerBound + 1), maxValue,
                          maxValue + 1, size * 2, UInt64.random(in: 0...maxValue, using: &rng)])
        let value = v > maxValue + 1 ? maxValue : v  // maxValue + 1 is all ones: "unknown size"
        b.replaceSubrange(e.sizeOffset..<e.sizeOffset + e.sizeLength, with: encodeVint(value, length: e.sizeLength))
        return String(format: "element 0x%llX@%d size: %llu -> %@", e.id, e.start, size,
                      value == maxValue + 1 ? "unknown" : "\(value)")
    }

    /// SeekHead and Cues: SeekPosition, CueTime, CueTrack, CueClusterPosition, CueRelativePosition.
    static let indexFields = uintMutator("mkv.index", ids: [0x53AC, 0xB3, 0xF7, 0xF1, 0xF0],
                                         label: { ["SeekPosition", "CueTime", "CueTrack", "CueClusterPosition",
                                                   "CueRelativePosition"][[0x53AC, 0xB3, 0xF7, 0xF1, 0xF0].firstIndex(of: $0) ?? 0] },
                                         extras: [0, 1, 0xFFFF_FFFF, 14_400_001])
}

// MARK: MPEG timestamps (PES, PCR, SCR)

private enum PES {
    static let wrap: UInt64 = 1 << 33
    static let second: UInt64 = 90_000

    struct Stamp {
        let offset: Int
        let isDTS: Bool
        let pes: Int
        let stream: UInt8
    }

    static func read(_ b: [UInt8], _ at: Int) -> UInt64 {
        (UInt64(b[at] >> 1) & 7) << 30 | UInt64(b[at + 1]) << 22 | UInt64(b[at + 2] >> 1) << 15
            | UInt64(b[at + 3]) << 7 | UInt64(b[at + 4] >> 1)
    }

    /// Keeps the 4-bit prefix; sets the three marker bits.
    static func write(_ b: inout [UInt8], _ at: Int, _ v: UInt64) {
        b[at] = (b[at] & 0xF0) | UInt8((v >> 29) & 0x0E) | 1
        b[at + 1] = UInt8((v >> 22) & 0xFF)
        b[at + 2] = UInt8((v >> 14) & 0xFE) | 1
        b[at + 3] = UInt8((v >> 7) & 0xFF)
        b[at + 4] = UInt8((v << 1) & 0xFE) | 1
    }

    /// PTS/DTS offsets in a PES header at `p` (MPEG-2 or MPEG-1 syntax), not reading past `end`.
    static func stamps(_ b: [UInt8], _ p: Int, _ end: Int, pes: Int) -> [Stamp] {
        guard p + 9 <= end, b[p] == 0, b[p + 1] == 0, b[p + 2] == 1 else { return [] }
        let sid = b[p + 3]
        guard sid == 0xBD || (0xC0...0xEF).contains(sid) else { return [] }
        if b[p + 6] & 0xC0 == 0x80 {
            let flags = b[p + 7] >> 6
            guard flags & 2 != 0, p + 14 <= end else { return [] }
            var out = [Stamp(offset: p + 9, isDTS: false, pes: pes, stream: sid)]
            if flags == 3, p + 19 <= end { out.append(Stamp(offset: p + 14, isDTS: true, pes: pes, stream: sid)) }
            return out
        }
        var q = p + 6
        while q < end, b[q] == 0xFF, q < p + 6 + 16 { q += 1 }
        if q < end, b[q] & 0xC0 == 0x40 { q += 2 }
        guard q + 5 <= end else { return [] }
        if b[q] & 0xF0 == 0x20 { return [Stamp(offset: q, isDTS: false, pes: pes, stream: sid)] }
        if b[q] & 0xF0 == 0x30, q + 10 <= end {
            return [Stamp(offset: q, isDTS: false, pes: pes, stream: sid), Stamp(offset: q + 5, isDTS: true, pes: pes, stream: sid)]
        }
        return []
    }

    static let deltas: [(String, Int64)] = [
        ("+2^32 ticks", 1 << 32), ("+1 h", 3600 * 90_000), ("+11790 s", 11_790 * 90_000), ("+30 s", 30 * 90_000),
        ("+1 tick", 1), ("-1 tick", -1), ("-10 s", -10 * 90_000), ("-1 h", -3600 * 90_000), ("-2^32 ticks", -(1 << 32)),
        ("+4 h 1 s", 14_401 * 90_000),
    ]

    /// Timestamp damage shared by TS and PS: one stamp, every stamp of a stream from one PES on, all stamps
    /// (including a shift that wraps 2^33 mid-file), or DTS after PTS.
    static func mutate(_ b: inout [UInt8], _ stamps: [Stamp], what: String, _ rng: inout SplitMix64) -> String? {
        guard !stamps.isEmpty else { return nil }
        func shift(_ s: Stamp, _ d: Int64) {
            write(&b, s.offset, UInt64(bitPattern: Int64(read(b, s.offset)) &+ d) & (wrap - 1))
        }
        let (label, d) = rng.pick(deltas)
        switch Int.random(in: 0..<5, using: &rng) {
        case 0:
            let s = rng.pick(stamps)
            let same = stamps.filter { $0.pes == s.pes }
            if rng.chance(2) {
                let v = rng.pick([0, wrap - 1, wrap - second, UInt64.random(in: 0..<wrap, using: &rng)])
                for t in same { write(&b, t.offset, v) }
                return "\(what) of PES \(s.pes) (stream 0x\(String(s.stream, radix: 16))) set to \(v)"
            }
            for t in same { shift(t, d) }
            return "\(what) of PES \(s.pes) (stream 0x\(String(s.stream, radix: 16))) \(label)"
        case 1:
            let s = rng.pick(stamps)
            for t in stamps where t.stream == s.stream && t.pes >= s.pes { shift(t, d) }
            return "\(what) of stream 0x\(String(s.stream, radix: 16)) from PES \(s.pes) on \(label)"
        case 2:
            let first = read(b, stamps[0].offset)
            let toWrap = Int64(wrap - second) - Int64(first)
            let (l, dd) = rng.chance(2) ? ("shifted to wrap 2^33 after 1 s", toWrap) : (label, d)
            for t in stamps { shift(t, dd) }
            return "every \(what) \(l)"
        case 3:
            let withDTS = stamps.filter(\.isDTS)
            guard let dts = withDTS.isEmpty ? nil : rng.pick(withDTS),
                  let pts = stamps.first(where: { $0.pes == dts.pes && !$0.isDTS }) else {
                let s = rng.pick(stamps)
                shift(s, d)
                return "\(what) of PES \(s.pes) \(label)"
            }
            let ahead: UInt64 = rng.pick([1, second, 1 << 32])
            write(&b, dts.offset, (read(b, pts.offset) + ahead) & (wrap - 1))
            return "DTS of PES \(dts.pes) = PTS + \(ahead) ticks"
        default:
            // Swap two PES's timestamps: out-of-order presentation.
            let a = rng.pick(stamps), c = rng.pick(stamps)
            let va = read(b, a.offset), vc = read(b, c.offset)
            write(&b, a.offset, vc)
            write(&b, c.offset, va)
            return "\(what) of PES \(a.pes) and PES \(c.pes) swapped"
        }
    }
}

// MARK: MPEG-TS

private enum MPEGTS {
    struct Packet {
        let start: Int
        let pid: Int
        let unitStart: Bool
        let payload: Int?
        let pcr: Int?
    }

    static func packets(_ b: [UInt8]) -> [Packet] {
        var out: [Packet] = []
        var at = 0
        while at + 188 <= b.count {
            defer { at += 188 }
            guard b[at] == 0x47 else { continue }
            let pid = Int(b[at + 1] & 0x1F) << 8 | Int(b[at + 2])
            let afc = (b[at + 3] >> 4) & 3
            var payload = at + 4
            var pcr: Int?
            if afc & 2 != 0 {
                let length = Int(b[at + 4])
                if length > 0, b[at + 5] & 0x10 != 0, length >= 7 { pcr = at + 6 }
                payload += 1 + length
            }
            out.append(Packet(start: at, pid: pid, unitStart: b[at + 1] & 0x40 != 0,
                              payload: afc & 1 != 0 && payload < at + 188 ? payload : nil, pcr: pcr))
        }
        return out
    }

    static let pts = Mutator(name: "ts.pts", structural: true) { b, rng in
        var stamps: [PES.Stamp] = []
        var n = 0
        for p in packets(b) where p.unitStart {
            guard let payload = p.payload else { continue }
            let s = PES.stamps(b, payload, p.start + 188, pes: n)
            if !s.isEmpty { stamps += s; n += 1 }
        }
        return PES.mutate(&b, stamps, what: "PTS/DTS", &rng)
    }

    static let pcr = Mutator(name: "ts.pcr", structural: true) { b, rng in
        let offsets = packets(b).compactMap(\.pcr)
        guard !offsets.isEmpty else { return nil }
        func read(_ at: Int) -> UInt64 {
            UInt64(b[at]) << 25 | UInt64(b[at + 1]) << 17 | UInt64(b[at + 2]) << 9 | UInt64(b[at + 3]) << 1 | UInt64(b[at + 4] >> 7)
        }
        func write(_ at: Int, _ v: UInt64) {
            Bytes.setBE(&b, at, 4, v >> 1)
            b[at + 4] = UInt8((v & 1) << 7) | (b[at + 4] & 0x7F)
        }
        let (label, d) = rng.pick(PES.deltas)
        let k = Int.random(in: 0..<offsets.count, using: &rng)
        switch Int.random(in: 0..<3, using: &rng) {
        case 0:
            write(offsets[k], UInt64(bitPattern: Int64(read(offsets[k])) &+ d) & (PES.wrap - 1))
            return "PCR \(k) of \(offsets.count) \(label)"
        case 1:
            for at in offsets[k...] { write(at, UInt64(bitPattern: Int64(read(at)) &+ d) & (PES.wrap - 1)) }
            return "PCR from \(k) of \(offsets.count) on \(label)"
        default:
            let v = rng.pick([0, PES.wrap - 1, UInt64.random(in: 0..<PES.wrap, using: &rng)])
            write(offsets[k], v)
            return "PCR \(k) of \(offsets.count) set to \(v)"
        }
    }

    /// Continuity counters: random values, a packet duplicated over its successor, a packet replaced by a null packet.
    static let continuity = Mutator(name: "ts.cc", structural: true) { b, rng in
        let all = packets(b)
        guard all.count > 2 else { return nil }
        switch Int.random(in: 0..<3, using: &rng) {
        case 0:
            let n = Int.random(in: 1...10, using: &rng)
            for _ in 0..<n {
                let p = rng.pick(all)
                b[p.start + 3] = (b[p.start + 3] & 0xF0) | UInt8.random(in: 0...15, using: &rng)
            }
            return "\(n) continuity counters randomised"
        case 1:
            let i = Int.random(in: 0..<all.count - 1, using: &rng)
            let chunk = Array(b[all[i].start..<all[i].start + 188])
            b.replaceSubrange(all[i + 1].start..<all[i + 1].start + 188, with: chunk)
            return "packet \(i) (PID \(all[i].pid)) duplicated over packet \(i + 1)"
        default:
            let i = Int.random(in: 0..<all.count, using: &rng)
            let null: [UInt8] = [0x47, 0x1F, 0xFF, 0x10] + Array(repeating: 0xFF, count: 184)
            b.replaceSubrange(all[i].start..<all[i].start + 188, with: null)
            return "packet \(i) (PID \(all[i].pid)) replaced by a null packet"
        }
    }
}

// MARK: MPEG program stream (VOB, MPEG-1 system)

private enum MPEGPS {
    /// PES timestamps and pack SCR offsets (with whether the pack is MPEG-2), walking pack by pack.
    static func walk(_ b: [UInt8]) -> (stamps: [PES.Stamp], scr: [(offset: Int, mpeg2: Bool)]) {
        var stamps: [PES.Stamp] = []
        var scr: [(Int, Bool)] = []
        var at = 0, n = 0
        while at + 6 <= b.count {
            guard b[at] == 0, b[at + 1] == 0, b[at + 2] == 1 else { at += 1; continue }
            let code = b[at + 3]
            switch code {
            case 0xBA:
                if b[at + 4] & 0xC0 == 0x40 {
                    guard at + 14 <= b.count else { return (stamps, scr) }
                    scr.append((at + 4, true))
                    at += 14 + Int(b[at + 13] & 7)
                } else {
                    scr.append((at + 4, false))
                    at += 12
                }
            case 0xB9:
                at += 4
            case 0xBB...0xFF:
                let length = Int(Bytes.be(b, at + 4, 2))
                let end = min(b.count, at + 6 + length)
                let s = PES.stamps(b, at, end, pes: n)
                if !s.isEmpty { stamps += s; n += 1 }
                at += 6 + length
            default:
                at += 1
            }
        }
        return (stamps, scr)
    }

    static let pts = Mutator(name: "ps.pts", structural: true) { b, rng in
        PES.mutate(&b, walk(b).stamps, what: "PTS/DTS", &rng)
    }

    /// Pack SCR base (33 bits; MPEG-2 and MPEG-1 layouts): jumps and zero.
    static let scr = Mutator(name: "ps.scr", structural: true) { b, rng in
        let packs = walk(b).scr
        guard !packs.isEmpty else { return nil }
        func read(_ p: (offset: Int, mpeg2: Bool)) -> UInt64 {
            let a = p.offset
            if !p.mpeg2 { return PES.read(b, a) }
            return (UInt64(b[a] >> 3) & 7) << 30 | (UInt64(b[a] & 3) << 28) | UInt64(b[a + 1]) << 20
                | (UInt64(b[a + 2] >> 3) << 15) | (UInt64(b[a + 2] & 3) << 13) | UInt64(b[a + 3]) << 5 | UInt64(b[a + 4] >> 3)
        }
        func write(_ p: (offset: Int, mpeg2: Bool), _ v: UInt64) {
            let a = p.offset
            if !p.mpeg2 { return PES.write(&b, a, v) }
            b[a] = (b[a] & 0xC4) | UInt8((v >> 30) & 7) << 3 | UInt8((v >> 28) & 3)
            b[a + 1] = UInt8((v >> 20) & 0xFF)
            b[a + 2] = (b[a + 2] & 0x04) | UInt8((v >> 15) & 0x1F) << 3 | UInt8((v >> 13) & 3)
            b[a + 3] = UInt8((v >> 5) & 0xFF)
            b[a + 4] = (b[a + 4] & 0x07) | UInt8(v & 0x1F) << 3
        }
        let (label, d) = rng.pick(PES.deltas)
        let k = Int.random(in: 0..<packs.count, using: &rng)
        if rng.chance(2) {
            for p in packs[k...] { write(p, UInt64(bitPattern: Int64(read(p)) &+ d) & (PES.wrap - 1)) }
            return "SCR from pack \(k) of \(packs.count) on \(label)"
        }
        write(packs[k], UInt64(bitPattern: Int64(read(packs[k])) &+ d) & (PES.wrap - 1))
        return "SCR of pack \(k) of \(packs.count) \(label)"
    }
}

// MARK: AVI (RIFF)

private enum AVI {
    struct Chunk {
        let id: String
        let listType: String?
        let start: Int
        let body: Range<Int>
        let inMovi: Bool
    }

    static func chunks(_ b: [UInt8]) -> [Chunk] {
        var out: [Chunk] = []
        func walk(_ range: Range<Int>, inMovi: Bool) {
            var at = range.lowerBound
            while at + 8 <= range.upperBound {
                let id = String(decoding: b[at..<at + 4], as: UTF8.self)
                let size = Int(Bytes.le(b, at + 4, 4))
                let end = min(range.upperBound, at + 8 + size)
                let isList = id == "RIFF" || id == "LIST"
                let type = isList && at + 12 <= end ? String(decoding: b[at + 8..<at + 12], as: UTF8.self) : nil
                out.append(Chunk(id: id, listType: type, start: at, body: at + 8..<end, inMovi: inMovi))
                if type != nil { walk(at + 12..<end, inMovi: inMovi || type == "movi") }
                at += 8 + size + (size & 1)
            }
        }
        walk(0..<b.count, inMovi: false)
        return out
    }

    static let headers = Mutator(name: "avi.header", structural: true) { b, rng in
        var f: [Field] = []
        let big: [UInt64] = [0, 0xFFFF_FFFF, 0x7FFF_FFFF, 0x8000_0000]
        for c in chunks(b) {
            let at = c.body.lowerBound
            func add(_ name: String, _ offset: Int, _ width: Int = 4, _ extras: [UInt64] = big) {
                if offset + width <= c.body.upperBound {
                    f.append(Field(name: "\(c.id).\(name)", offset: at + offset, width: width, littleEndian: true, extras: extras))
                }
            }
            switch c.id {
            case "avih":
                add("dwMicroSecPerFrame", 0, 4, big + [1, 1_000_000_000])
                add("dwTotalFrames", 16); add("dwStreams", 24, 4, [0, 2, 100])
                add("dwSuggestedBufferSize", 28); add("dwWidth", 32); add("dwHeight", 36)
            case "strh":
                add("dwScale", 20, 4, big + [1]); add("dwRate", 24, 4, big + [1]); add("dwStart", 28)
                add("dwLength", 32); add("dwSuggestedBufferSize", 36); add("dwSampleSize", 44, 4, big + [1])
            case "strf":
                add("biSize", 0, 4, big + [0x28, 0x2C]); add("biWidth", 4, 4, big + [0x4000])
                add("biHeight", 8, 4, big + [0xFFFF_FFC0, 0x4000]); add("biBitCount", 14, 2, [0, 1, 0xFFFF, 64])
                add("biSizeImage", 20)
            default: break
            }
        }
        return Field.mutateSome(f, &b, &rng)
    }

    /// idx1 entries: keyframe flag, chunk offset, chunk size.
    static let index = Mutator(name: "avi.index", structural: true) { b, rng in
        guard let idx = chunks(b).first(where: { $0.id == "idx1" }) else { return nil }
        let n = idx.body.count / 16
        var f: [Field] = []
        for i in someEntries(n, &rng) {
            let e = idx.body.lowerBound + 16 * i
            f.append(Field(name: "idx1[\(i)].dwFlags", offset: e + 4, width: 4, littleEndian: true, extras: [0, 0x10, 0x100]))
            f.append(Field(name: "idx1[\(i)].dwChunkOffset", offset: e + 8, width: 4, littleEndian: true, extras: [0, 4, 0xFFFF_FFF0]))
            f.append(Field(name: "idx1[\(i)].dwChunkLength", offset: e + 12, width: 4, littleEndian: true,
                           extras: [0, 0xFFFF_FFFF, 0x7FFF_FFFF, 0x0100_0000]))
        }
        f.append(Field(name: "idx1.size", offset: idx.start + 4, width: 4, littleEndian: true, extras: [0, 8, 0xFFFF_FFFF]))
        return Field.mutateSome(f, &b, &rng)
    }

    /// Chunk sizes (RIFF, LIST, headers half the time; movi data chunks otherwise).
    static let chunkSizes = Mutator(name: "avi.chunkSize", structural: true) { b, rng in
        let all = chunks(b)
        let header = all.filter { !$0.inMovi }
        guard !all.isEmpty else { return nil }
        let c = rng.chance(2) && !header.isEmpty ? rng.pick(header) : rng.pick(all)
        let size = UInt64(c.body.count)
        let f = Field(name: "\(c.id)\(c.listType.map { " " + $0 } ?? "")@\(c.start).size", offset: c.start + 4, width: 4,
                      littleEndian: true, extras: [0, 1, 3, size + 1, size &- 1, size + 4096, 0xFFFF_FFF0, 0x7FFF_FFFF])
        return f.mutate(&b, &rng)
    }
}

// MARK: GIF

private enum GIF {
    /// Logical screen and frame sizes, frame delays, LZW code size, loop count.
    static let fields = Mutator(name: "gif.fields", structural: true) { b, rng in
        guard b.count > 13, b.starts(with: Array("GIF8".utf8)) else { return nil }
        let dims: [UInt64] = [0, 1, 0xFFFF, 0x8000, 0x4000]
        var f = [Field(name: "screen.width", offset: 6, width: 2, littleEndian: true, extras: dims),
                 Field(name: "screen.height", offset: 8, width: 2, littleEndian: true, extras: dims)]
        var at = 13
        if b[10] & 0x80 != 0 { at += 3 << (Int(b[10] & 7) + 1) }
        var frame = 0
        func skipSubBlocks(_ p: inout Int) {
            while p < b.count, b[p] != 0 { p += 1 + Int(b[p]) }
            p += 1
        }
        while at < b.count {
            switch b[at] {
            case 0x21:
                guard at + 2 < b.count else { at = b.count; break }
                let label = b[at + 1]
                if label == 0xF9, at + 8 <= b.count {
                    f.append(Field(name: "frame\(frame).delay", offset: at + 4, width: 2, littleEndian: true, extras: [0, 1, 0xFFFF]))
                }
                if label == 0xFF, at + 19 <= b.count, b[at + 2] == 11, b[at + 14] == 3 {
                    f.append(Field(name: "loop_count", offset: at + 16, width: 2, littleEndian: true, extras: [0, 0xFFFF]))
                }
                at += 2
                skipSubBlocks(&at)
            case 0x2C:
                guard at + 11 <= b.count else { at = b.count; break }
                for (i, n) in ["left", "top", "width", "height"].enumerated() {
                    f.append(Field(name: "frame\(frame).\(n)", offset: at + 1 + 2 * i, width: 2, littleEndian: true, extras: dims))
                }
                let packed = b[at + 9]
                at += 10
                if packed & 0x80 != 0 { at += 3 << (Int(packed & 7) + 1) }
                if at < b.count {
                    f.append(Field(name: "frame\(frame).lzw_min_code_size", offset: at, width: 1, extras: [0, 1, 11, 12, 0xFF]))
                }
                at += 1
                skipSubBlocks(&at)
                frame += 1
            default:
                at = b.count
            }
        }
        return Field.mutateSome(f.filter { $0.offset + $0.width <= b.count }, &b, &rng)
    }
}
