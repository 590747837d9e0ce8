import Foundation
import Yams

/// Reads and validates a pipeline file. Refused at start, with file, line and
/// reason: malformed YAML, unknown or missing keys, wrong types, values out
/// of range, example media that do not exist, prompts whose `<image>` count
/// does not match their media.
public enum PipelineLoader {
    public static let mediaMarker = "<image>"

    /// `nameOrPath`: a file path, or the name of a file in `directory` (`default` -> `default.yaml`).
    public static func resolve(_ nameOrPath: String, directory: URL) -> URL {
        if nameOrPath.contains("/") || nameOrPath.hasSuffix(".yaml") || nameOrPath.hasSuffix(".yml") {
            return URL(fileURLWithPath: nameOrPath)
        }
        return directory.appendingPathComponent("\(nameOrPath).yaml")
    }

    public static func load(contentsOf url: URL) throws(PipelineError) -> PipelineDefinition {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw PipelineError(file: url.path, line: nil, reason: "cannot be read: \(error.localizedDescription)")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw PipelineError(file: url.path, line: nil, reason: "is not UTF-8 text")
        }
        return try parse(text, file: url.path, contentHash: SHA256.hex(data))
    }

    public static func parse(_ text: String, file: String, contentHash: String? = nil) throws(PipelineError) -> PipelineDefinition {
        let root: Node
        do {
            guard let node = try Yams.compose(yaml: text) else {
                throw PipelineError(file: file, line: nil, reason: "is empty")
            }
            root = node
        } catch let error as PipelineError {
            throw error
        } catch let error as YamlError {
            throw PipelineError(file: file, line: Self.line(of: error), reason: "is not valid YAML: \(Self.problem(of: error))")
        } catch {
            throw PipelineError(file: file, line: nil, reason: "is not valid YAML: \(error)")
        }
        let y = YAMLFields(file: file)
        // Keys passed as `required` to `mapping` are present; `y.required` still checks.
        let top = try y.mapping(root, "the pipeline", allowed: ["name", "model", "sampling", "decoding", "tasks", "out_of_domain"],
                                required: ["name", "tasks"])
        let base = URL(fileURLWithPath: file).deletingLastPathComponent()
        var pipeline = PipelineDefinition(
            name: try y.string(try y.required(top, "name", in: root), "name"),
            model: try top["model"].map { n throws(PipelineError) in try y.string(n, "model") } ?? "default",
            sampling: .init(), decoding: .init(), tasks: [],
            contentHash: contentHash ?? SHA256.hex(Data(text.utf8)), path: file)

        if let node = top["sampling"] {
            let s = try y.mapping(node, "sampling", allowed: ["fps", "max_frames", "segment_seconds", "media"])
            if let n = s["fps"] { pipeline.sampling.fps = try y.double(n, "sampling.fps", in: 0.01...30) }
            if let n = s["max_frames"] {
                pipeline.sampling.maxFrames = try y.int(n, "sampling.max_frames", in: 1...256)
                pipeline.sampling.maxFramesLine = n.mark?.line
            }
            if let n = s["segment_seconds"] { pipeline.sampling.segmentSeconds = try y.double(n, "sampling.segment_seconds", in: 1...86_400) }
            if let n = s["media"] {
                let value = try y.string(n, "sampling.media")
                guard let media = PipelineDefinition.Sampling.Media(rawValue: value) else {
                    throw y.error(n, "sampling.media must be 'video' (one media item) or 'frames' (one <image> per frame), not '\(value)'")
                }
                pipeline.sampling.media = media
            }
        }
        if let node = top["out_of_domain"] {
            let value = try y.string(node, "out_of_domain")
            guard let policy = PipelineDefinition.OutOfDomain(rawValue: value) else {
                throw y.error(node, "out_of_domain must be 'answer', 'warn' or 'skip', not '\(value)'")
            }
            pipeline.outOfDomain = policy
        }
        if let node = top["decoding"] {
            let d = try y.mapping(node, "decoding", allowed: ["beams", "max_tokens", "length_penalty"])
            if let n = d["beams"] { pipeline.decoding.beams = try y.int(n, "decoding.beams", in: 1...16) }
            if let n = d["max_tokens"] { pipeline.decoding.maxTokens = try y.int(n, "decoding.max_tokens", in: 1...512) }
            if let n = d["length_penalty"] { pipeline.decoding.lengthPenalty = try y.double(n, "decoding.length_penalty", in: -10...10) }
        }
        var names: Set<String> = []
        for item in try y.sequence(try y.required(top, "tasks", in: root), "tasks") {
            let task = try parseTask(item, y: y, base: base)
            let name: String? = switch task {
            case .classify(let name, _, _, _), .prompt(let name, _, _, _): name
            default: nil
            }
            if let name {
                guard names.insert(name).inserted else { throw y.error(item, "two tasks are named '\(name)'") }
            }
            pipeline.tasks.append(task)
        }
        return pipeline
    }

    private static func parseTask(_ node: Node, y: YAMLFields, base: URL) throws(PipelineError) -> PipelineTask {
        let kinds = ["caption", "qa", "classify", "prompt"]
        let wrapper = try y.mapping(node, "a task", allowed: kinds)
        guard wrapper.count == 1, let (kind, body) = wrapper.first else {
            throw y.error(node, "each task is one of \(kinds.joined(separator: ", ")), written as '- caption: {...}'")
        }
        switch kind {
        case "caption":
            let f = try y.mapping(body, "the caption task", allowed: ["prompt", "examples"])
            return .caption(prompt: try f["prompt"].map { n throws(PipelineError) in try y.string(n, "caption.prompt") } ?? "Caption:",
                            examples: try examples(f["examples"], y: y, base: base, withQuestion: false))
        case "qa":
            let f = try y.mapping(body, "the qa task", allowed: ["questions", "template", "examples"], required: ["questions"])
            let template = try f["template"].map { n throws(PipelineError) in try y.string(n, "qa.template") } ?? "Question: {question} Short answer:"
            guard template.contains("{question}") else { throw y.error(f["template"], "qa.template must contain {question}") }
            return .qa(questions: try y.strings(try y.required(f, "questions", in: body), "qa.questions"), template: template,
                       examples: try examples(f["examples"], y: y, base: base, withQuestion: true))
        case "classify":
            let f = try y.mapping(body, "the classify task", allowed: ["name", "question", "options", "template"],
                                  required: ["name", "question", "options"])
            let options = try y.strings(try y.required(f, "options", in: body), "classify.options")
            guard options.count >= 2 else { throw y.error(f["options"], "classify.options needs at least two options") }
            guard Set(options).count == options.count else { throw y.error(f["options"], "classify.options has duplicates") }
            let template = try f["template"].map { n throws(PipelineError) in try y.string(n, "classify.template") } ?? "Question: {question} Short answer:"
            guard template.contains("{question}") else { throw y.error(f["template"], "classify.template must contain {question}") }
            return .classify(name: try y.string(try y.required(f, "name", in: body), "classify.name"), question: try y.string(try y.required(f, "question", in: body), "classify.question"),
                             options: options, template: template)
        default:  // prompt
            let f = try y.mapping(body, "the prompt task", allowed: ["name", "text", "media", "max_tokens"], required: ["name", "text"])
            let text = try y.string(try y.required(f, "text", in: body), "prompt.text")
            var media: [String] = []
            if let list = f["media"] {
                for item in try y.sequence(list, "prompt.media", nonEmpty: false) {
                    media.append(try existingFile(item, y: y, base: base, what: "prompt.media"))
                }
            }
            let markers = text.components(separatedBy: mediaMarker).count - 1
            guard markers == media.count + 1 else {
                throw y.error(f["text"], "prompt.text has \(markers) \(mediaMarker) marker(s); it needs one per media file (\(media.count)) plus one for the video, last")
            }
            return .prompt(name: try y.string(try y.required(f, "name", in: body), "prompt.name"), text: text, media: media,
                           maxTokens: try f["max_tokens"].map { n throws(PipelineError) in try y.int(n, "prompt.max_tokens", in: 1...512) })
        }
    }

    private static func examples(_ node: Node?, y: YAMLFields, base: URL, withQuestion: Bool) throws(PipelineError) -> [FewShotExample] {
        guard let node else { return [] }
        var out: [FewShotExample] = []
        for item in try y.sequence(node, "examples", nonEmpty: false) {
            let keys = withQuestion ? ["media", "question", "answer"] : ["media", "text"]
            let f = try y.mapping(item, "an example", allowed: keys, required: keys)
            out.append(FewShotExample(
                media: try existingFile(try y.required(f, "media", in: item), y: y, base: base, what: "example media"),
                text: try y.string(try y.required(f, withQuestion ? "answer" : "text", in: item), withQuestion ? "example answer" : "example text"),
                question: withQuestion ? try y.string(try y.required(f, "question", in: item), "example question") : nil))
        }
        return out
    }

    private static func existingFile(_ node: Node, y: YAMLFields, base: URL, what: String) throws(PipelineError) -> String {
        let raw = try y.string(node, what)
        let url = raw.hasPrefix("/") ? URL(fileURLWithPath: raw) : base.appendingPathComponent(raw)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), !isDirectory.boolValue else {
            throw y.error(node, "\(what) '\(raw)' does not exist (looked for \(url.path))")
        }
        return url.standardizedFileURL.path
    }

    private static func problem(of error: YamlError) -> String {
        switch error {
        case .scanner(_, let problem, _, _), .parser(_, let problem, _, _), .composer(_, let problem, _, _):
            return problem
        case .duplicatedKeysInMapping(let duplicates, _):
            return "duplicate keys \(duplicates.joined(separator: ", "))"
        default:
            return "\(error)"
        }
    }

    private static func line(of error: YamlError) -> Int? {
        switch error {
        case .scanner(_, _, let mark, _), .parser(_, _, let mark, _), .composer(_, _, let mark, _):
            return mark.line
        default:
            return nil
        }
    }
}
