import Foundation

/// Hands the pictures that `PlannedDecoding`'s workers decode to the reading
/// thread in sample order, each as soon as it is known, so memory does not
/// grow with the video: at most `capacity` pictures are held, and a worker
/// that would hold more waits, unless the sample being emitted cannot move
/// until that worker goes on (it decodes the picture the sample needs, or
/// finishes the run that tells the picture failed).
///
/// A sample whose planned frame did not decode shows the picture emitted
/// before it (the closest earlier target), else the first later one held.
final class SampleAssembler: @unchecked Sendable {
    struct Picture {
        var pts: Int64
        /// (size, size, 3) RGB24.
        var pixels: [UInt8]
        var isKeyframe: Bool
    }

    /// What the reading thread gets next.
    enum Next {
        /// Sample `index` shows `picture`; `substituted` when it is not the planned frame.
        case sample(index: Int, picture: Picture, substituted: Bool)
        /// Every sample has been handed out (or none can be: nothing decoded).
        case done
    }

    private let condition = NSCondition()
    /// Per sample: the pts of the planned frame and the run that decodes it.
    private let wanted: [Int64]
    private let runOfSample: [Int]
    /// pts -> the last sample that shows it, and the run that decodes it.
    private let lastUse: [Int64: Int]
    private let runOfPTS: [Int64: Int]
    let capacity: Int

    private var held: [Int64: Picture] = [:]
    private var finishedRuns: Set<Int> = []
    private var activeWorkers: Int
    private var failure: VideoIOError?
    private var next = 0
    private var lastEmitted: Picture?
    private var stopped = false

    /// `wanted[k]`: planned pts of sample k; `runOfSample[k]`: its run.
    init(wanted: [Int64], runOfSample: [Int], workers: Int, capacity: Int) {
        self.wanted = wanted
        self.runOfSample = runOfSample
        var lastUse: [Int64: Int] = [:]
        var runOfPTS: [Int64: Int] = [:]
        for (k, pts) in wanted.enumerated() {
            lastUse[pts] = k
            runOfPTS[pts] = runOfSample[k]
        }
        self.lastUse = lastUse
        self.runOfPTS = runOfPTS
        activeWorkers = workers
        self.capacity = max(1, capacity)
    }

    /// Whether `pts` is the planned frame of some sample not yet handed out.
    func isWanted(_ pts: Int64) -> Bool {
        condition.withLock { (lastUse[pts] ?? -1) >= next && held[pts] == nil && !stopped }
    }

    /// Whether workers should stop: every sample handed out, or a failure.
    var isStopped: Bool { condition.withLock { stopped || failure != nil } }

    /// A worker's decoded target picture. Waits while too many are held and
    /// the reading thread can go on without this worker.
    func deposit(_ picture: Picture) {
        condition.lock()
        defer { condition.unlock() }
        let run = runOfPTS[picture.pts] ?? Int.max
        while held.count >= capacity && !stopped && failure == nil
                && (run > frontierRun || canHandOut()) && picture.pts != frontierPTS {
            condition.wait()
        }
        guard !stopped, failure == nil, (lastUse[picture.pts] ?? -1) >= next else { return }
        held[picture.pts] = picture
        condition.broadcast()
    }

    /// Runs a worker has decoded to the end (the decoder was drained after them).
    func finish(runs: some Sequence<Int>) {
        condition.withLock {
            finishedRuns.formUnion(runs)
            condition.broadcast()
        }
    }

    /// A worker is done, with the error that stopped it if any.
    func workerEnded(_ error: VideoIOError?) {
        condition.withLock {
            activeWorkers -= 1
            if let error, failure == nil || (failure?.code == "timed_out" && error.code != "timed_out") { failure = error }
            condition.broadcast()
        }
    }

    /// Blocks until the next sample can be handed out; throws a worker's error.
    func take() throws(VideoIOError) -> Next {
        condition.lock()
        defer { condition.unlock() }
        while true {
            if let failure { throw failure }
            guard next < wanted.count else {
                stopped = true
                condition.broadcast()
                return .done
            }
            guard canHandOut() else {
                condition.wait()
                continue
            }
            let k = next
            let pts = wanted[k]
            let planned = held[pts]
            let picture = planned ?? lastEmitted ?? held.keys.filter { $0 > pts }.min().flatMap { held[$0] }
            next += 1
            if let picture { lastEmitted = picture }
            for (p, _) in held where (lastUse[p] ?? -1) < next { held[p] = nil }
            condition.broadcast()
            // No picture at all (nothing decoded): the sample is skipped.
            if let picture { return .sample(index: k, picture: picture, substituted: planned == nil) }
        }
    }

    private var frontierRun: Int { next < runOfSample.count ? runOfSample[next] : Int.max }
    private var frontierPTS: Int64? { next < wanted.count ? wanted[next] : nil }

    /// Whether sample `next` can be handed out now (lock held).
    private func canHandOut() -> Bool {
        guard next < wanted.count else { return false }
        let pts = wanted[next]
        if held[pts] != nil { return true }
        if activeWorkers == 0 { return true }
        let run = runOfSample[next]
        // Within a run frames come out in presentation order: a later target of
        // the same run means this one failed to decode.
        let failed = finishedRuns.contains(run) || held.keys.contains { $0 > pts && runOfPTS[$0] == run }
        return failed && (lastEmitted != nil || held.keys.contains { $0 > pts })
    }
}
