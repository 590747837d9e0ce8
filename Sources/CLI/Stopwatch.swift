import Foundation

/// Wall-clock timing for the `bench` commands.
enum Stopwatch {
    /// Wall seconds one call of `body` takes.
    private static func seconds(_ body: () throws -> Void) rethrows -> Double {
        let t0 = DispatchTime.now().uptimeNanoseconds
        try body()
        return Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
    }

    /// Median wall seconds of `runs` calls of `body`, after one warm-up call.
    static func medianSeconds(runs: Int, _ body: () throws -> Void) rethrows -> Double {
        try body()
        var times: [Double] = []
        for _ in 0..<max(1, runs) { times.append(try seconds(body)) }
        return times.sorted()[times.count / 2]
    }
}
