import ArgumentParser
import Cluster
import Foundation

/// `flamingo status`: the cluster's queue, leases, workers and latest failures.
struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show the cluster's queue depth, leases held, workers and recent failures.")

    @Option(help: ArgumentHelp("The cluster's database (default: $FLAMINGO_DATABASE_URL).", valueName: "postgres://USER@HOST/DB"))
    var database: String?

    @Flag(help: "Print JSON.")
    var json = false

    func run() async throws {
        guard let url = DatabaseSession.url(database) else {
            throw CLIError("status needs the cluster's database: --database postgres://... or FLAMINGO_DATABASE_URL")
        }
        let status = try await DatabaseSession.with(url) { store in
            do {
                return try await store.status()
            } catch {
                // No worker has started yet: create the schema, so a fresh database reads as empty
                // (a role that may only read needs no DDL rights on a database in use).
                try await store.migrate()
                return try await store.status()
            }
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: try encoder.encode(status), as: UTF8.self))
            return
        }
        let states = ["queued", "running", "done", "failed", "gone", "superseded"]
        print("jobs: " + states.map { "\($0) \(status.jobs[$0] ?? 0)" }.joined(separator: ", ")
              + (status.waitingForRetry > 0 ? " (\(status.waitingForRetry) queued waiting to retry)" : ""))
        print("leases: \(status.leases.count)")
        for lease in status.leases {
            print(String(format: "  %@  attempt %d  by %@  expires in %.0f s", lease.path, lease.attempt, lease.worker, lease.expiresInS))
        }
        print("workers: \(status.workers.count)")
        for worker in status.workers {
            print(String(format: "  %@  seen %.0f s ago  running %d  done %d  failed %d  lost leases %d",
                         worker.id, worker.lastSeenS, worker.running, worker.done, worker.failed, worker.lostLeases))
        }
        if !status.recentFailures.isEmpty {
            print("recent failures:")
            for failure in status.recentFailures {
                print("  \(failure.path)  after \(failure.attempts) attempt(s)\(failure.worker.map { " on \($0)" } ?? ""): \(failure.error)")
            }
        }
    }
}
