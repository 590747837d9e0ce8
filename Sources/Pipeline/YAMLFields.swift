import Yams

/// Typed, located access to a YAML document's nodes: every failure names the
/// file and the line of the offending node.
struct YAMLFields {
    let file: String

    func error(_ node: Node?, _ reason: String) -> PipelineError {
        PipelineError(file: file, line: node?.mark?.line, reason: reason)
    }

    /// The mapping's entries by key, refusing keys outside `allowed` and
    /// requiring `required`.
    func mapping(_ node: Node, _ what: String, allowed: [String], required: [String] = []) throws(PipelineError) -> [String: Node] {
        guard let mapping = node.mapping else { throw error(node, "\(what) must be a mapping") }
        var entries: [String: Node] = [:]
        for (key, value) in mapping {
            guard let name = key.string else { throw error(key, "\(what) has a key that is not text") }
            guard allowed.contains(name) else {
                throw error(key, "unknown key '\(name)' in \(what) (expected: \(allowed.joined(separator: ", ")))")
            }
            guard entries[name] == nil else { throw error(key, "duplicate key '\(name)' in \(what)") }
            entries[name] = value
        }
        for name in required where entries[name] == nil {
            throw error(node, "\(what) needs '\(name)'")
        }
        return entries
    }

    /// The value of a key that `mapping(..., required:)` already required.
    func required(_ entries: [String: Node], _ key: String, in parent: Node) throws(PipelineError) -> Node {
        guard let node = entries[key] else { throw error(parent, "needs '\(key)'") }
        return node
    }

    func string(_ node: Node, _ what: String) throws(PipelineError) -> String {
        guard case .scalar(let scalar) = node else { throw error(node, "\(what) must be text") }
        let text = scalar.string.trimmingCharacters(in: .whitespaces)
        guard !text.isEmpty else { throw error(node, "\(what) must not be empty") }
        return scalar.string
    }

    func double(_ node: Node, _ what: String, in range: ClosedRange<Double>) throws(PipelineError) -> Double {
        guard let value = node.float ?? node.int.map(Double.init), value.isFinite else {
            throw error(node, "\(what) must be a number")
        }
        guard range.contains(value) else { throw error(node, "\(what) must be between \(range.lowerBound) and \(range.upperBound), got \(value)") }
        return value
    }

    func int(_ node: Node, _ what: String, in range: ClosedRange<Int>) throws(PipelineError) -> Int {
        guard let value = node.int else { throw error(node, "\(what) must be a whole number") }
        guard range.contains(value) else { throw error(node, "\(what) must be between \(range.lowerBound) and \(range.upperBound), got \(value)") }
        return value
    }

    func sequence(_ node: Node, _ what: String, nonEmpty: Bool = true) throws(PipelineError) -> [Node] {
        guard let sequence = node.sequence else { throw error(node, "\(what) must be a list") }
        let items = Array(sequence)
        if nonEmpty && items.isEmpty { throw error(node, "\(what) must not be empty") }
        return items
    }

    func strings(_ node: Node, _ what: String) throws(PipelineError) -> [String] {
        var out: [String] = []
        for item in try sequence(node, what) { out.append(try string(item, "each entry of \(what)")) }
        return out
    }
}

extension String {
    func trimmingCharacters(in set: Set<Character>) -> String {
        var s = Substring(self)
        while let f = s.first, set.contains(f) { s = s.dropFirst() }
        while let l = s.last, set.contains(l) { s = s.dropLast() }
        return String(s)
    }
}

extension Set where Element == Character {
    static let whitespaces: Set<Character> = [" ", "\t", "\n", "\r"]
}
