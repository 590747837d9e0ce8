import Foundation
import XCTest

/// A throw-away PostgreSQL server for the cluster tests: Debian's `postgresql` binaries, a new cluster
/// in a temporary directory (initdb with trust authentication for the `flamingo` role), listening on a
/// loopback port and a socket in that directory only; run as the `postgres` user when the tests run as
/// root (PostgreSQL refuses root). Stopped and removed at deinit.
final class PostgresServer {
    let directory: URL
    private(set) var port = 0
    let binaries: URL
    private let asPostgresUser: Bool

    /// The server's URL (no TLS on loopback).
    var url: String { "postgres://flamingo@127.0.0.1:\(port)/postgres?sslmode=disable" }

    init() throws {
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? []
        guard let version = versions.sorted(by: { (Int($0) ?? 0) > (Int($1) ?? 0) }).first(where: {
            FileManager.default.isExecutableFile(atPath: "/usr/lib/postgresql/\($0)/bin/initdb")
        }) else {
            throw XCTSkip("PostgreSQL server binaries are not installed (make deps installs Debian's postgresql)")
        }
        binaries = URL(fileURLWithPath: "/usr/lib/postgresql/\(version)/bin")
        asPostgresUser = getuid() == 0
        directory = URL(fileURLWithPath: "/tmp").appendingPathComponent("flamingo-pg-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        if asPostgresUser { XCTAssertEqual(Self.run("/bin/chown", ["postgres:postgres", directory.path]).status, 0) }
        let initialised = Self.run(binaries.appendingPathComponent("initdb").path,
                                   ["-D", directory.appendingPathComponent("data").path, "-A", "trust", "-U", "flamingo", "--no-sync"],
                                   asPostgres: asPostgresUser)
        guard initialised.status == 0 else { throw ServerError("initdb failed: \(initialised.output)") }
        for _ in 0..<5 {
            port = Int.random(in: 20_000...60_000)
            if start() { return }
        }
        throw ServerError("PostgreSQL did not start: \((try? String(contentsOf: directory.appendingPathComponent("server.log"), encoding: .utf8)) ?? "")")
    }

    deinit {
        stop()
        try? FileManager.default.removeItem(at: directory)
    }

    struct ServerError: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }

    @discardableResult
    func start() -> Bool {
        Self.run(binaries.appendingPathComponent("pg_ctl").path, [
            "-D", directory.appendingPathComponent("data").path, "-l", directory.appendingPathComponent("server.log").path,
            "-o", "-p \(port) -k \(directory.path) -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200",
            "-w", "-t", "30", "start",
        ], asPostgres: asPostgresUser).status == 0
    }

    func stop() {
        _ = Self.run(binaries.appendingPathComponent("pg_ctl").path,
                     ["-D", directory.appendingPathComponent("data").path, "-m", "immediate", "-w", "stop"], asPostgres: asPostgresUser)
    }

    /// One SQL statement through psql: its unaligned, tuples-only output, or "psql failed: ..." (a
    /// table that does not exist yet, the server restarting: the callers poll).
    func query(_ sql: String) -> String {
        let result = Self.run("/usr/bin/psql", ["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-c", sql, url])
        let output = result.output.trimmingCharacters(in: .whitespacesAndNewlines)
        return result.status == 0 ? output : "psql failed: \(output)"
    }

    func integer(_ sql: String) -> Int { Int(query(sql)) ?? -1 }

    /// Runs a tool to its end (posix_spawn and waitpid: Foundation's Process has been seen to miss the
    /// exit of `runuser`, which pg_ctl's daemonised server outlives), output merged from a file.
    static func run(_ tool: String, _ arguments: [String], asPostgres: Bool = false) -> (status: Int32, output: String) {
        let argv = ["/usr/bin/env", "--chdir=/tmp"] + (asPostgres ? ["/usr/sbin/runuser", "-u", "postgres", "--"] : []) + [tool] + arguments
        let outputPath = "/tmp/flamingo-pg-output-\(UUID().uuidString)"
        defer { unlink(outputPath) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o666)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        let cArguments = argv.map { strdup($0) } + [nil]
        defer { for pointer in cArguments { free(pointer) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, argv[0], &actions, nil, cArguments, environ)
        guard spawned == 0 else { return (-1, "cannot start \(argv[0]): \(String(cString: strerror(spawned)))") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let output = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
        let exited = (status & 0x7F) == 0
        return (exited ? (status >> 8) & 0xFF : 128 + (status & 0x7F), output)
    }
}
