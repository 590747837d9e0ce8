import Foundation
import Generation
import Model
import Tensor

/// Runs the full product path on a labelled set: the reader at 1 frame per
/// second (at most the model's `frame_embs` frames per clip), vision encoder,
/// resampler, then greedy generation with the training prompts (Prompts), and
/// scores answers by exact match (AnswerScoring). Same protocol as
/// Training/train.py `evaluate`, so the Swift and Python numbers compare.
/// Clips and prompts run in parallel, one per core, with OpenBLAS single-threaded.
public struct Evaluator: Sendable {
    public let session: FlamingoSession
    public let set: EvaluationSet
    /// Measure the main metrics with the resampler's temporal embeddings zeroed.
    public var zeroTemporalEmbeddings = false
    /// Tokens to generate at most for a short answer and for a caption.
    public var answerTokens = 8
    public var captionTokens = 48
    /// Wrong answers listed in the report at most.
    public var mistakeLimit = 40

    public init(session: FlamingoSession, set: EvaluationSet) {
        self.session = session
        self.set = set
    }

    /// Visual tokens of one clip, as trained and with temporal embeddings zeroed;
    /// `error` says why the clip could not be read (its items then count as wrong).
    struct Encoded: Sendable {
        var tokens: [Float]?
        var zeroed: [Float]?
        var error: String?
        var domain: DomainCheck?
    }

    struct Outcome: Sendable {
        var group: String
        var correct: Bool
        var mistake: EvaluationReport.Mistake?
    }

    public func run(progress: (@Sendable (String) -> Void)? = nil) -> EvaluationReport {
        let start = Date()
        let clips = set.clips
        let encoded = Parallel.withSingleThreadedBLAS { Parallel.map(clips.count) { i in encode(clips[i]) } }
        progress?(String(format: "read and encoded %d clip(s) in %.1f s", clips.count, Date().timeIntervalSince(start)))
        let index = Dictionary(uniqueKeysWithValues: clips.enumerated().map { ($0.element.id, $0.offset) })

        // Each job: (group, clip ids in prompt order, prompt, expected answer, max tokens, zeroed?).
        typealias Job = (group: String, clips: [Int], prompt: String, expected: String, maxTokens: Int, zeroed: Bool)
        var pending: [Job] = []
        for (i, clip) in clips.enumerated() {
            let byQuestion = Dictionary(clip.qa.map { ($0.question, $0) }, uniquingKeysWith: { a, _ in a })
            for text in clip.qaBalanced {
                guard let q = byQuestion[text] else { continue }
                pending.append(("qa/\(q.type)", [i], Prompts.question(q.question), q.answer, answerTokens, zeroTemporalEmbeddings))
            }
            pending.append(("caption", [i], Prompts.caption, clip.caption, captionTokens, zeroTemporalEmbeddings))
            for q in clip.qa where (q.type == "motion" && q.answer != "not moving") || q.type == "color" {
                let kind = q.type == "motion" ? "direction" : "color"
                pending.append(("temporal-with/\(kind)", [i], Prompts.question(q.question), q.answer, answerTokens, false))
                pending.append(("temporal-zeroed/\(kind)", [i], Prompts.question(q.question), q.answer, answerTokens, true))
            }
        }
        for e in set.episodes {
            let ids = (e.support + [e.query]).compactMap { index[$0.clip] }  // EvaluationSet checked every clip exists
            let group = e.form == "answer" ? "fewshot/\(e.k)" : "fewshot-question"
            pending.append((group, ids, e.prompt, e.query.answer, answerTokens, zeroTemporalEmbeddings))
        }

        // The temporal block repeats questions of the main set; each distinct (media, prompt, length) runs once.
        let key = { (job: Job) in "\(job.zeroed)|\(job.clips)|\(job.maxTokens)|\(job.prompt)" }
        var firstOfKey: [String: Int] = [:]
        var unique: [Job] = []
        for job in pending where firstOfKey[key(job)] == nil {
            firstOfKey[key(job)] = unique.count
            unique.append(job)
        }
        let done = Counter()
        let predictions = Parallel.withSingleThreadedBLAS {
            Parallel.map(unique.count) { j -> String in
                defer {
                    let n = done.increment()
                    if n % 500 == 0 { progress?("\(n)/\(unique.count) prompts") }
                }
                let job = unique[j]
                do {
                    var media: [[Float]] = []
                    for c in job.clips {
                        guard let tokens = job.zeroed ? encoded[c].zeroed : encoded[c].tokens else {
                            throw EvaluationError.unreadable(path: set.url(of: clips[c]).path, reason: encoded[c].error ?? "not encoded")
                        }
                        media.append(tokens)
                    }
                    return try complete(job.prompt, memory: session.model.mediaMemory(media), maxTokens: job.maxTokens)
                } catch {
                    return "<error: \(error.localizedDescription)>"
                }
            }
        }
        let outcomes = pending.map { job -> Outcome in
            let predicted = predictions[firstOfKey[key(job)] ?? 0]
            let ok = AnswerScoring.matches(predicted, job.expected)
            return Outcome(group: job.group, correct: ok, mistake: ok ? nil : .init(
                clip: clips[job.clips[job.clips.count - 1]].id, prompt: job.prompt, expected: job.expected, predicted: predicted))
        }

        var tally: [String: (Int, Int)] = [:]
        for o in outcomes { tally[o.group, default: (0, 0)].0 += o.correct ? 1 : 0; tally[o.group, default: (0, 0)].1 += 1 }
        func accuracy(_ groups: [String]) -> EvaluationReport.Accuracy {
            let c = groups.reduce((0, 0)) { ($0.0 + (tally[$1]?.0 ?? 0), $0.1 + (tally[$1]?.1 ?? 0)) }
            return .init(correct: c.0, count: c.1)
        }
        let qaGroups = tally.keys.filter { $0.hasPrefix("qa/") }.sorted()
        var perType: [String: EvaluationReport.Accuracy] = [:]
        for g in qaGroups { perType[String(g.dropFirst(3))] = accuracy([g]) }
        var byShots: [String: EvaluationReport.Accuracy] = [:]
        for g in tally.keys where g.hasPrefix("fewshot/") { byShots[String(g.dropFirst(8))] = accuracy([g]) }
        let questionForm = tally["fewshot-question"] == nil ? nil : accuracy(["fewshot-question"])
        let mistakes = outcomes.compactMap { $0.group.hasPrefix("temporal-zeroed") ? nil : $0.mistake }.prefix(mistakeLimit)

        var report = EvaluationReport(
            dataset: set.directory.path, model: session.directory.path, clips: clips.count,
            zeroTemporalEmbeddings: zeroTemporalEmbeddings,
            questions: accuracy(qaGroups), questionsPerType: perType, captions: accuracy(["caption"]),
            fewShotByShots: byShots, fewShotQuestionForm: questionForm,
            temporalWith: .init(directionMoving: accuracy(["temporal-with/direction"]), color: accuracy(["temporal-with/color"])),
            temporalZeroed: .init(directionMoving: accuracy(["temporal-zeroed/direction"]), color: accuracy(["temporal-zeroed/color"])),
            bars: [], mistakes: Array(mistakes), seconds: 0)
        report.bars = QualityBars.check(report)
        let checks: [DomainCheck] = encoded.compactMap(\.domain)
        if let threshold = checks.first?.threshold {
            let scores: [Double] = checks.map { Double($0.score) }.sorted()
            let last = scores.count - 1
            var quantiles: [Double] = [0.5, 0.9, 0.99].map { (q: Double) -> Double in scores[min(last, Int(Double(last) * q))] }
            quantiles.append(scores[last])
            let inDomain = EvaluationReport.Accuracy(correct: checks.filter(\.inDomain).count, count: checks.count)
            report.domain = EvaluationReport.Domain(inDomain: inDomain, threshold: Double(threshold), scoreQuantiles: quantiles)
        }
        report.seconds = Date().timeIntervalSince(start)
        return report
    }

    private func encode(_ clip: EvaluationSet.Clip) -> Encoded {
        do {
            let item = try session.loadMedia(path: set.url(of: clip).path)
            let frames = item.frames.count
            // One pass of the vision encoder; the resampler runs with and without temporal embeddings.
            let features = try session.model.visionFeatures(pixels: item.pixels, frames: frames)
            let domain = session.model.domain?.check(visionFeatures: features, frames: frames)
            return Encoded(tokens: try session.model.resample(features, frames: frames),
                           zeroed: try session.model.resample(features, frames: frames, zeroTemporalEmbeddings: true), domain: domain)
        } catch {
            return Encoded(error: error.localizedDescription)
        }
    }

    /// Greedy continuation of `prompt` up to `<|endofchunk|>`, as text.
    private func complete(_ prompt: String, memory: FlamingoModel.MediaMemory, maxTokens: Int) throws -> String {
        let ids = try session.tokens(for: prompt, mediaCount: memory.count)
        var out = try Decoder(model: session.model).generate(prompt: ids, media: memory,
                                                             options: GenerationOptions(maxNewTokens: maxTokens))
        if out.last == session.model.configuration.specialTokens.endOfChunk { out.removeLast() }
        return session.tokenizer.decode(out, skipSpecialTokens: true)
    }
}
