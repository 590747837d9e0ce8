import COpenBLAS
import Foundation

/// Our own parallel loops for the element-wise and per-frame work between
/// BLAS calls. They never run while OpenBLAS's pool is busy: either the loop
/// body makes no BLAS call, or `withSingleThreadedBLAS` pins OpenBLAS to one
/// thread for the loop (one pool at a time, never both competing).
public enum Parallel {
    /// Worker threads: the machine's cores, at most 8.
    public static let workers = max(1, min(8, ProcessInfo.processInfo.activeProcessorCount))

    /// Calls `body` on disjoint ranges covering 0..<count, in parallel when
    /// there is enough work (`minimumPerWorker` items each).
    public static func forEachChunk(_ count: Int, minimumPerWorker: Int = 4096, _ body: (Range<Int>) -> Void) {
        let chunks = min(workers, max(1, count / max(1, minimumPerWorker)))
        if chunks <= 1 {
            body(0..<count)
            return
        }
        withoutActuallyEscaping(body) { body in
            let box = UncheckedSendable(body)
            DispatchQueue.concurrentPerform(iterations: chunks) { c in
                let start = count * c / chunks, end = count * (c + 1) / chunks
                box.value(start..<end)
            }
        }
    }

    /// `body(i)` for every i in 0..<count, spread over the cores (iterations are handed out one at a
    /// time, so uneven work balances), results in order. A body that calls BLAS must run inside
    /// `withSingleThreadedBLAS`.
    public static func map<T>(_ count: Int, _ body: (Int) -> T) -> [T] {
        [T](unsafeUninitializedCapacity: count) { buffer, initialized in
            if let base = buffer.baseAddress {
                let out = UncheckedSendable(base)
                withoutActuallyEscaping(body) { body in
                    let box = UncheckedSendable(body)
                    DispatchQueue.concurrentPerform(iterations: count) { i in (out.value + i).initialize(to: box.value(i)) }
                }
            }
            initialized = count
        }
    }

    /// The threads a BLAS-like call may use now: 1 inside `withSingleThreadedBLAS`, else OpenBLAS's
    /// count (other libraries' calls, oneDNN's, follow the same rule: one pool at a time).
    public static var blasThreads: Int { Int(openblas_get_num_threads()) }

    /// Runs `body` with OpenBLAS limited to one thread, for loops whose
    /// iterations each call BLAS on small matrices (attention per frame).
    public static func withSingleThreadedBLAS<T>(_ body: () throws -> T) rethrows -> T {
        let previous = openblas_get_num_threads()
        openblas_set_num_threads(1)
        defer { openblas_set_num_threads(previous) }
        return try body()
    }
}

/// Hands a non-Sendable value to `concurrentPerform` whose iterations only
/// touch disjoint memory.
struct UncheckedSendable<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
