import Foundation
import Generation
import Model
import VideoIO

/// Runs a pipeline on one video with a loaded model: reads the video once,
/// encodes it once (and each example media item once per runner), then runs
/// every task with OpenFlamingo's prompt conventions and returns the sidecar.
public final class PipelineRunner: @unchecked Sendable {
    public let pipeline: PipelineDefinition
    public let session: FlamingoSession
    public let modelIdentity: Sidecar.Identity
    public let limits: VideoReaderLimits
    private let lock = NSLock()
    private var exampleCache: [String: [Float]] = [:]  // example media path -> visual tokens

    public static let endOfChunk = FlamingoSession.endOfChunk
    public static let marker = FlamingoSession.mediaMarker

    /// Refuses, with the pipeline file and line, a pipeline this model cannot
    /// run, before any video is read.
    public init(pipeline: PipelineDefinition, session: FlamingoSession, modelName: String,
                limits: VideoReaderLimits = VideoReaderLimits()) throws(PipelineError) {
        try Self.check(pipeline, session: session, modelName: modelName)
        self.pipeline = pipeline
        self.session = session
        self.limits = limits
        let config = (try? Data(contentsOf: session.directory.appendingPathComponent("config.json"))) ?? Data()
        modelIdentity = Sidecar.Identity(name: modelName, hash: SHA256.hex(config), domain: session.domain)
    }

    /// A video (and every few-shot example) is one media item of up to
    /// `max_frames` frames, and a resampler with learned temporal embeddings
    /// has rows for a fixed number of frames.
    static func check(_ pipeline: PipelineDefinition, session: FlamingoSession, modelName: String) throws(PipelineError) {
        guard let limit = session.maxFramesPerItem, let wanted = pipeline.sampling.maxFrames, wanted > limit else { return }
        let hasExamples = pipeline.tasks.contains { task in
            switch task {
            case .caption(_, let examples): !examples.isEmpty
            case .qa(_, _, let examples): !examples.isEmpty
            case .classify: false
            case .prompt(_, _, let media, _): !media.isEmpty
            }
        }
        guard pipeline.sampling.media == .video || hasExamples else { return }
        throw PipelineError(
            file: pipeline.path, line: pipeline.sampling.maxFramesLine,
            reason: "sampling.max_frames is \(wanted), but the model '\(modelName)' has temporal embeddings (frame_embs) "
                + "for at most \(limit) frames per media item: use max_frames: \(limit) or fewer")
    }

    public var pipelineIdentity: Sidecar.Identity { Sidecar.Identity(name: pipeline.name, hash: pipeline.contentHash) }

    /// The sidecar for one video: its results, or an error sidecar that says
    /// what is wrong (never throws: one bad file must not stop the others).
    /// `progress` hears what is happening (frames read, each task done), for a terminal display.
    public func sidecar(for video: String, attempts: Int = 1, progress: ((String) -> Void)? = nil) -> Sidecar {
        let fingerprint = Sidecar.Fingerprint.of(path: URL(fileURLWithPath: video).resolvingSymlinksInPath().path)
            ?? Sidecar.Fingerprint(size: 0, mtimeNs: 0, inode: 0)
        do {
            return try process(video: video, fingerprint: fingerprint, progress: progress)
        } catch {
            let code = (error as? VideoIOError)?.code ?? "processing_failed"
            let message = (error as? VideoIOError)?.localizedDescription ?? "\(video): \(error.localizedDescription)"
            return errorSidecar(for: video, fingerprint: fingerprint, code: code, message: message, attempts: attempts)
        }
    }

    /// An error sidecar for `video` with this runner's model and pipeline.
    public func errorSidecar(for video: String, fingerprint: Sidecar.Fingerprint, code: String, message: String,
                             attempts: Int) -> Sidecar {
        Sidecar(
            status: "error",
            video: .init(file: (video as NSString).lastPathComponent, fingerprint: fingerprint, probe: nil),
            model: modelIdentity, pipeline: pipelineIdentity,
            error: .init(code: code, message: message, attempts: attempts),
            createdAt: ISO8601DateFormatter().string(from: Date()))
    }

    /// Whether a failure may succeed on a later attempt (file still being written, deadline, the
    /// daemon's worker process dying under it).
    public static func isTransient(_ sidecar: Sidecar) -> Bool {
        ["unreadable", "timed_out", "file_changed", "worker_crashed"].contains(sidecar.error?.code ?? "")
    }

    /// Processes `path`; throws the reader's or the model's error for bad input.
    public func process(video path: String, fingerprint: Sidecar.Fingerprint, progress: ((String) -> Void)? = nil) throws -> Sidecar {
        let start = Date()
        let maxFrames = pipeline.sampling.maxFrames ?? session.defaultMaxFrames
        let p = session.preprocessing
        let segmenting = pipeline.sampling.segmentSeconds
        // Segments need every sample; otherwise at most maxFrames spread over the video.
        let sampled = try VideoReader(path: path, limits: limits).sample(
            SamplingOptions(fps: pipeline.sampling.fps, maxFrames: segmenting == nil ? maxFrames : nil, size: p.imageSize))
        let readDone = Date()
        progress?(String(format: "read %d frame(s) in %.2f s", sampled.frames.count, readDone.timeIntervalSince(start)))
        let config = PreprocessingConfig(mean: p.mean, std: p.std)

        // The whole video as one media item, or one per frame (evenly spread frames when segmenting).
        let overall = Self.spread(Array(sampled.frames.indices), to: maxFrames)
        let (videoTokens, domainCheck) = try encodeChecked(sampled.normalizedPixels(frames: overall, config), frames: overall.count)
        var encodeSeconds = Date().timeIntervalSince(readDone)

        var sidecar = Sidecar(
            status: "ok",
            video: .init(file: (path as NSString).lastPathComponent, fingerprint: fingerprint,
                         probe: .init(durationS: sampled.probe.durationSeconds, width: sampled.probe.displayWidth,
                                      height: sampled.probe.displayHeight, codec: sampled.probe.codec)),
            model: modelIdentity, pipeline: pipelineIdentity,
            frames: overall.map { sampled.frames[$0].timeSeconds },
            warnings: sampled.warnings.isEmpty ? nil : sampled.warnings, createdAt: ISO8601DateFormatter().string(from: Date()))
        if let check = domainCheck {
            sidecar.domain = .init(score: Double(check.score), threshold: Double(check.threshold), inDomain: check.inDomain)
            if !check.inDomain && pipeline.outOfDomain != .answer {
                let domain = session.domain ?? "the footage it was trained for"
                let message = String(format: "%@: looks unlike what the model was trained for (in-domain score %.1f, threshold %.1f; "
                                     + "the model knows: %@)", path as NSString, check.score, check.threshold, domain as NSString)
                if pipeline.outOfDomain == .skip {
                    sidecar.status = "error"
                    sidecar.frames = nil
                    sidecar.error = .init(code: "out_of_domain", message: message + "; no answers written (out_of_domain: skip)", attempts: 1)
                    return sidecar
                }
                sidecar.warnings = (sidecar.warnings ?? []) + [message + "; its answers are likely wrong"]
            }
        }
        let options = GenerationOptions(maxNewTokens: pipeline.decoding.maxTokens, numBeams: pipeline.decoding.beams,
                                        lengthPenalty: pipeline.decoding.lengthPenalty)
        for (number, task) in pipeline.tasks.enumerated() {
            defer { progress?("task \(number + 1)/\(pipeline.tasks.count) (\(task.kind)) done") }
            switch task {
            case let .caption(prompt, examples):
                let shots = try examples.map { ($0.media, "\(Self.marker)\(prompt) \($0.text)\(Self.endOfChunk)") }
                sidecar.caption = try generate(shots: shots, query: prompt, video: videoTokens, options: options)
                if let segmentSeconds = segmenting {
                    sidecar.segments = try segments(sampled: sampled, config: config, length: segmentSeconds,
                                                    maxFrames: maxFrames, shots: shots, prompt: prompt, options: options,
                                                    encodeSeconds: &encodeSeconds)
                }
            case let .qa(questions, template, examples):
                let shots = try examples.map { ex throws -> (String, String) in
                    (ex.media, "\(Self.marker)\(template.replacingOccurrences(of: "{question}", with: ex.question ?? "")) \(ex.text)\(Self.endOfChunk)")
                }
                var answers: [Sidecar.Answer] = []
                for question in questions {
                    let query = template.replacingOccurrences(of: "{question}", with: question)
                    let result = try generate(shots: shots, query: query, video: videoTokens, options: options)
                    answers.append(.init(question: question, answer: result.text, logprob: result.logprob))
                }
                sidecar.answers = (sidecar.answers ?? []) + answers
            case let .classify(name, question, candidates, template):
                let prompt = Self.markers(videoTokens.count) + template.replacingOccurrences(of: "{question}", with: question)
                let memory = session.memory(visualTokens: videoTokens)
                let scores = try session.score(prompt: prompt, options: candidates.map { " \($0)\(Self.endOfChunk)" },
                                               memory: memory)
                let best = scores.indices.max { scores[$0] < scores[$1] } ?? 0
                sidecar.classifications = (sidecar.classifications ?? []) + [.init(
                    name: name, question: question, answer: candidates[best],
                    scores: zip(candidates, scores).map { .init(option: $0, logprob: $1) })]
            case let .prompt(name, text, media, maxTokens):
                var custom = options
                if let maxTokens { custom.maxNewTokens = maxTokens }
                let tokens = try media.map { try exampleTokens($0) } + videoTokens
                let memory = session.memory(visualTokens: tokens)
                let result = try session.generate(prompt: Self.expandingLastMarker(text, to: videoTokens.count), memory: memory, options: custom)
                sidecar.prompts = (sidecar.prompts ?? []) + [.init(name: name, text: result.text, logprob: result.logprob)]
            }
        }
        let end = Date()
        let total = end.timeIntervalSince(start), read = readDone.timeIntervalSince(start)
        sidecar.timings = .init(readS: read, encodeS: encodeSeconds, generateS: max(0, total - read - encodeSeconds), totalS: total)
        return sidecar
    }

    /// The video's media items: one, or one per frame (`sampling.media: frames`).
    /// `encode` with the in-domain check over all the frames (the median of their distances; nil when
    /// the model has no statistics).
    private func encodeChecked(_ pixels: [Float], frames: Int) throws -> ([[Float]], DomainCheck?) {
        guard pipeline.sampling.media == .frames, frames > 1 else {
            let (latents, check) = try session.visualTokensChecked(pixels: pixels, frames: frames)
            return ([latents], check)
        }
        let perFrame = pixels.count / frames
        let encoded = try (0..<frames).map { f in
            try session.visualTokensChecked(pixels: Array(pixels[(f * perFrame)..<((f + 1) * perFrame)]), frames: 1)
        }
        let scores = encoded.compactMap { $0.domain?.score }.sorted()
        let check = encoded.first?.domain.map { DomainCheck(score: scores[scores.count / 2], threshold: $0.threshold) }
        return (encoded.map(\.tokens), check)
    }

    private func encode(_ pixels: [Float], frames: Int) throws -> [[Float]] {
        guard pipeline.sampling.media == .frames, frames > 1 else {
            return [try session.visualTokens(pixels: pixels, frames: frames)]
        }
        let perFrame = pixels.count / frames
        return try (0..<frames).map { f in
            try session.visualTokens(pixels: Array(pixels[(f * perFrame)..<((f + 1) * perFrame)]), frames: 1)
        }
    }

    /// One `<image>` per media item of the video.
    static func markers(_ count: Int) -> String { String(repeating: marker, count: count) }

    /// A raw prompt whose last `<image>` stands for the video, with that marker repeated per media item.
    static func expandingLastMarker(_ text: String, to count: Int) -> String {
        guard count > 1, let range = text.range(of: marker, options: .backwards) else { return text }
        return text.replacingCharacters(in: range, with: markers(count))
    }

    /// Few-shot examples (media path, full text) then the query (the text after the video's markers).
    private func generate(shots: [(String, String)], query: String, video: [[Float]], options: GenerationOptions) throws -> Sidecar.Generated {
        let tokens = try shots.map { try exampleTokens($0.0) } + video
        let memory = session.memory(visualTokens: tokens)
        let prompt = shots.map(\.1).joined() + Self.markers(video.count) + query
        let result = try session.generate(prompt: prompt, memory: memory, options: options)
        return .init(text: Self.clean(result.text), logprob: result.logprob)
    }

    private func segments(sampled: SampledVideo, config: PreprocessingConfig, length: Double, maxFrames: Int,
                          shots: [(String, String)], prompt: String, options: GenerationOptions,
                          encodeSeconds: inout Double) throws -> [Sidecar.Segment] {
        let duration = sampled.probe.durationSeconds
        var out: [Sidecar.Segment] = []
        var startTime = 0.0
        while startTime < duration {
            let endTime = min(duration, startTime + length)
            let inside = sampled.frames.indices.filter { sampled.frames[$0].timeSeconds >= startTime && sampled.frames[$0].timeSeconds < endTime }
            if !inside.isEmpty {
                let chosen = Self.spread(inside, to: maxFrames)
                let t0 = Date()
                let tokens = try encode(sampled.normalizedPixels(frames: chosen, config), frames: chosen.count)
                encodeSeconds += Date().timeIntervalSince(t0)
                let caption = try generate(shots: shots, query: prompt, video: tokens, options: options)
                out.append(.init(startS: startTime, endS: endTime, caption: caption))
            }
            startTime = endTime
        }
        return out
    }

    /// Visual tokens of an example media file, computed once per runner.
    private func exampleTokens(_ path: String) throws -> [Float] {
        if let cached = lock.withLock({ exampleCache[path] }) { return cached }
        let item = try session.loadMedia(path: path, maxFrames: pipeline.sampling.maxFrames, limits: limits)
        let tokens = try session.visualTokens(pixels: item.pixels, frames: item.frames.count)
        lock.withLock { exampleCache[path] = tokens }
        return tokens
    }

    /// `count` indices spread evenly over `indices` (all of them when fewer).
    static func spread(_ indices: [Int], to count: Int) -> [Int] {
        guard indices.count > count, count > 0 else { return indices }
        return (0..<count).map { indices[$0 * indices.count / count] }
    }

    /// Generated text without surrounding spaces.
    static func clean(_ text: String) -> String {
        text.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
