import Foundation

/// Wall-clock timing for the `bench` commands.
enum Stopwatch {
    /// Wall seconds one call of `body` takes.
    static func seconds(_ body: () throws -> Void) rethrows -> Double {
        let t0 = DispatchTime.now().uptimeNanoseconds
        try body()
        return Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
    }

    /// Lets the previous call's idle BLAS threads (ours or the PyTorch peer's) go to sleep before the next
    /// timed call: OpenBLAS workers spin with sched_yield for about 2^28 cycles (0.1 s) after each call,
    /// and on two cores they would take time from whatever runs next.
    static func settle() {
        Thread.sleep(forTimeInterval: 0.25)
    }

    /// `seconds(body)` after `settle()`.
    static func settledSeconds(_ body: () throws -> Void) rethrows -> Double {
        settle()
        return try seconds(body)
    }

    /// Median wall seconds of `runs` calls of `body`, after one warm-up call.
    static func medianSeconds(runs: Int, _ body: () throws -> Void) rethrows -> Double {
        try body()
        var times: [Double] = []
        for _ in 0..<max(1, runs) { times.append(try seconds(body)) }
        return median(times)
    }

    /// The middle value (the upper one of the two middle values for an even count); 0 when empty.
    static func median(_ values: [Double]) -> Double {
        values.isEmpty ? 0 : values.sorted()[values.count / 2]
    }
}
