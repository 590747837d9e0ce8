import CFFmpeg
import Foundation

/// Decodes a `SamplingPlan` with one or more workers. Runs start afresh at a
/// keyframe, so they are independent: each worker reads the file with its own
/// demuxer and single-threaded decoder and claims the next undecoded run
/// whenever it finishes one (runs are claimed in increasing order, so every
/// worker only ever reads forward). That is GOP-level parallelism without
/// frame threading's overhead or flush stalls, balanced however long the
/// runs are. With one worker the decoder uses frame threading instead. Each
/// worker scales only the frames the plan targets and hands them to a
/// `SampleAssembler`, which gives them to the caller in sample order while
/// decoding goes on, holding a bounded number of pictures.
struct PlannedDecoding: Sendable {
    var path: String
    var limits: VideoReaderLimits
    var deadline: Deadline
    var formatName: String
    var identity: SecureFileInput.FileIdentity
    var streamIndex: Int32
    var plan: SamplingPlan
    var size: Int
    var rotation: Int
    var sampleAspectRatio: AVRational

    /// Pictures held at most while they wait for their turn, in bytes.
    static let pictureBudgetBytes = 64 << 20

    /// What decoding did, summed over the workers.
    struct Outcome {
        var statistics = SamplingReport.Statistics(
            packets: 0, packetsSent: 0, framesDecoded: 0, decodeErrors: 0, decodeRuns: 0, decoderThreads: 0,
            planned: true)
        var emitted = 0
        var substituted = 0
        /// Whether any decoded frame was field-coded.
        var interlaced = false
    }

    /// Decodes and calls `emit` for each sample in order, on the calling thread.
    func run(
        workers: Int, threadsPerWorker: Int,
        emit: (_ sample: Int, _ picture: SampleAssembler.Picture) -> Void
    ) throws(VideoIOError) -> Outcome {
        let wanted = plan.plannedPTS.map { $0 ?? FFmpegError.noPTS }
        let assembler = SampleAssembler(
            wanted: wanted, runOfSample: plan.runOfSample, workers: workers,
            capacity: Self.pictureBudgetBytes / max(1, size * size * 3))
        let results = WorkerResults(count: workers)
        let dispenser = RunDispenser()
        // Threads of their own, not Dispatch's global queues: the caller blocks in `take()` while they
        // decode, and a caller that is itself on a global-queue thread (the daemon's jobs) must not be
        // able to use up the pool the workers would need.
        let finished = DispatchSemaphore(value: 0)
        for w in 0..<workers {
            let thread = Thread {
                do throws(VideoIOError) {
                    results.set(w, try decode(into: assembler, runs: dispenser, threads: threadsPerWorker))
                    assembler.workerEnded(nil)
                } catch {
                    deadline.cancel()  // stop the other workers early
                    assembler.workerEnded(error)
                }
                finished.signal()
            }
            thread.name = "flamingo-decode-\(w)"
            thread.stackSize = 8 << 20  // decoders expect a main-thread-sized stack
            thread.start()
        }
        var outcome = Outcome()
        var failure: VideoIOError?
        do throws(VideoIOError) {
            while case let .sample(index, picture, substituted) = try assembler.take() {
                emit(index, picture)
                outcome.emitted += 1
                if substituted { outcome.substituted += 1 }
            }
        } catch {
            failure = error
        }
        for _ in 0..<workers { finished.wait() }
        if let failure { throw failure }
        for worker in results.all() {
            outcome.interlaced = outcome.interlaced || worker.interlaced
            outcome.statistics.packetsSent += worker.statistics.packetsSent
            outcome.statistics.framesDecoded += worker.statistics.framesDecoded
            outcome.statistics.decodeErrors += worker.statistics.decodeErrors
            outcome.statistics.decodeRuns += worker.statistics.decodeRuns
        }
        return outcome
    }

    private func decode(into assembler: SampleAssembler, runs dispenser: RunDispenser, threads: Int) throws(VideoIOError) -> Outcome {
        let shortName = String(formatName.split(separator: ",").first ?? "")
        let demuxer = try Demuxer.open(
            path: path, limits: limits, deadline: deadline, format: av_find_input_format(shortName), analyze: false)
        guard demuxer.input.identity == identity else { throw .fileChanged(path: path) }
        let stream = try demuxer.selectVideoStream()
        guard stream.pointee.index == streamIndex else { throw .fileChanged(path: path) }
        let decoder = try VideoDecoder.open(stream: stream, path: path, limits: limits, threads: threads)
        let preprocessor = try FramePreprocessor(size: size, rotation: rotation, path: path)

        let runOf = plan.runOf
        let runEnds = plan.runLastPacket
        var current = dispenser.claim()
        var claimed = [current]
        var sentRuns: Set<Int> = []
        var output = Outcome()
        output.statistics.decoderThreads = threads
        let pictureBytes = size * size * 3
        defer { assembler.finish(runs: claimed) }

        try PacketDecodeLoop.run(
            demuxer: demuxer, streamIndex: streamIndex, decoder: decoder, limits: limits,
            lastPacket: Int.max, stats: &output.statistics,
            action: { i in
                while current < runEnds.count && i > runEnds[current] {
                    current = dispenser.claim()
                    claimed.append(current)
                }
                guard current < runEnds.count && Int(runOf[i]) == current else { return .skip }
                sentRuns.insert(current)
                return plan.actions[i]
            },
            isDone: { current >= runEnds.count || assembler.isStopped },
            onFrame: { frame, lastSent throws(VideoIOError) in
                if fl_frame_interlaced(frame.pointer) != 0 { output.interlaced = true }
                var pts = frame.pointer.pointee.best_effort_timestamp
                if pts == FFmpegError.noPTS { pts = frame.pointer.pointee.pts }
                pts = plan.continued(pts, afterPacket: lastSent)
                guard assembler.isWanted(pts) else { return }
                var picture = [UInt8](repeating: 0, count: pictureBytes)
                try picture.withUnsafeMutableBufferPointer { buffer throws(VideoIOError) in
                    guard let base = buffer.baseAddress else { return }
                    try preprocessor.convert(frame.pointer, streamSAR: sampleAspectRatio, into: base)
                }
                assembler.deposit(.init(pts: pts, pixels: picture, isKeyframe: fl_frame_is_key(frame.pointer) != 0))
            },
            onDrained: {
                assembler.finish(runs: sentRuns)
                sentRuns.removeAll()
            })
        return output
    }
}

/// Hands out run numbers 0, 1, 2, ... to whichever worker asks next.
private final class RunDispenser: @unchecked Sendable {
    private let lock = NSLock()
    private var next = 0

    func claim() -> Int {
        lock.withLock {
            defer { next += 1 }
            return next
        }
    }
}

/// Per-worker statistics, written once each by the worker threads.
private final class WorkerResults: @unchecked Sendable {
    private let lock = NSLock()
    private var results: [PlannedDecoding.Outcome?]

    init(count: Int) { results = Array(repeating: nil, count: count) }

    func set(_ i: Int, _ outcome: PlannedDecoding.Outcome) { lock.withLock { results[i] = outcome } }

    func all() -> [PlannedDecoding.Outcome] { lock.withLock { results.compactMap { $0 } } }
}
