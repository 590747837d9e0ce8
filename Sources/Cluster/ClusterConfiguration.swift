import Daemon
import Foundation

/// How `flamingo watch --database` behaves (docs/CLUSTER.md); the watch-folder settings (directories,
/// stability, rescans, job slots, worker processes) are the single-host daemon's.
public struct ClusterConfiguration: Sendable {
    public var watch: WatchConfiguration
    public var database: DatabaseURL
    public var shares: ShareMap
    /// A claimed job's lease; a worker extends it every third of this while it works.
    public var leaseSeconds: Double = 30
    /// Claim poll period when no NOTIFY arrives (NOTIFY is only a wake-up hint).
    public var pollSeconds: Double = 2
    /// This worker's id in the database (host:pid:random).
    public var workerID: String
    public var host: String

    public init(watch: WatchConfiguration, database: DatabaseURL, shares: ShareMap) {
        self.watch = watch
        self.database = database
        self.shares = shares
        var name = [CChar](repeating: 0, count: 256)
        gethostname(&name, name.count - 1)
        host = String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        workerID = "\(host):\(getpid()):\(String(UInt32.random(in: 0...UInt32.max), radix: 16))"
    }
}
