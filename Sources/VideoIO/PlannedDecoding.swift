import CFFmpeg
import Foundation

/// Decodes a `SamplingPlan` with one or more workers. Runs start afresh at a
/// keyframe, so they are independent: each worker reads the file with its own
/// demuxer and single-threaded decoder and claims the next undecoded run
/// whenever it finishes one (runs are claimed in increasing order, so every
/// worker only ever reads forward). That is GOP-level parallelism without
/// frame threading's overhead or flush stalls, balanced however long the
/// runs are. With one worker the decoder uses frame threading instead. Each
/// worker scales only the frames the plan targets.
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

    /// One worker's product: RGB24 pictures of the target frames, by pts.
    struct Output {
        var pixels: [Int64: [UInt8]] = [:]
        var keyframes: Set<Int64> = []
        /// Whether any decoded frame was field-coded.
        var interlaced = false
        var statistics = SamplingReport.Statistics(
            packets: 0, packetsSent: 0, framesDecoded: 0, decodeErrors: 0, decodeRuns: 0, decoderThreads: 0,
            planned: true)
    }

    func run(workers: Int, threadsPerWorker: Int) throws(VideoIOError) -> [Output] {
        let slots = WorkerSlots(count: workers)
        let dispenser = RunDispenser()
        DispatchQueue.concurrentPerform(iterations: workers) { w in
            do throws(VideoIOError) {
                slots.set(w, .success(try decode(runs: dispenser, threads: threadsPerWorker)))
            } catch {
                slots.set(w, .failure(error))
                deadline.cancel()  // stop the other workers early
            }
        }
        return try slots.collect()
    }

    private func decode(runs dispenser: RunDispenser, threads: Int) throws(VideoIOError) -> Output {
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
        let targets = Set(plan.plannedPTS.compactMap { $0 })
        var output = Output()
        output.statistics.decoderThreads = threads
        let pictureBytes = size * size * 3

        try PacketDecodeLoop.run(
            demuxer: demuxer, streamIndex: streamIndex, decoder: decoder, limits: limits,
            lastPacket: Int.max, stats: &output.statistics,
            action: { i in
                while current < runEnds.count && i > runEnds[current] { current = dispenser.claim() }
                return current < runEnds.count && Int(runOf[i]) == current ? plan.actions[i] : .skip
            },
            isDone: { current >= runEnds.count },
            onFrame: { frame throws(VideoIOError) in
                if fl_frame_interlaced(frame.pointer) != 0 { output.interlaced = true }
                var pts = frame.pointer.pointee.best_effort_timestamp
                if pts == FFmpegError.noPTS { pts = frame.pointer.pointee.pts }
                guard targets.contains(pts), output.pixels[pts] == nil else { return }
                var picture = [UInt8](repeating: 0, count: pictureBytes)
                try picture.withUnsafeMutableBufferPointer { buffer throws(VideoIOError) in
                    guard let base = buffer.baseAddress else { return }
                    try preprocessor.convert(frame.pointer, streamSAR: sampleAspectRatio, into: base)
                }
                output.pixels[pts] = picture
                if fl_frame_is_key(frame.pointer) != 0 { output.keyframes.insert(pts) }
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

/// Per-worker results, written once each from `concurrentPerform`.
private final class WorkerSlots: @unchecked Sendable {
    private let lock = NSLock()
    private var results: [Result<PlannedDecoding.Output, VideoIOError>?]

    init(count: Int) { results = Array(repeating: nil, count: count) }

    func set(_ i: Int, _ result: Result<PlannedDecoding.Output, VideoIOError>) {
        lock.withLock { results[i] = result }
    }

    func collect() throws(VideoIOError) -> [PlannedDecoding.Output] {
        let all = lock.withLock { results }
        // Report the first real failure, not the cancellation it caused in the others.
        var firstError: VideoIOError?
        var outputs: [PlannedDecoding.Output] = []
        for result in all {
            switch result {
            case .success(let output): outputs.append(output)
            case .failure(let error):
                if firstError == nil || (firstError?.code == "timed_out" && error.code != "timed_out") { firstError = error }
            case nil: break
            }
        }
        if let firstError { throw firstError }
        return outputs
    }
}
