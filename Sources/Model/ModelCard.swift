import Foundation

/// `model_card.json` in a model directory: what the model is, the one domain it was trained for, the
/// recipe that made it and its evaluation figures (docs/MODEL.md, "Model card"). Optional (a converted
/// checkpoint has none until someone writes one); when present it is validated on load like the
/// config: every key known, name and domain non-empty, the domain one line.
public struct ModelCard: Codable, Sendable, Equatable {
    public static let fileName = "model_card.json"

    public var name: String
    /// One line: what the model knows, for users and for sidecars.
    public var domain: String
    /// How it was made (a pointer into the repository's docs, a recipe name).
    public var recipe: String
    public var evaluation: Evaluation?

    public struct Evaluation: Codable, Sendable, Equatable {
        /// The evaluation set, as named in the recipe (for the shipped model, Models/eval).
        public var set: String
        /// Metric name -> value (fractions in [0, 1] or counts).
        public var figures: [String: Double]
    }

    static let keys: Set<String> = ["name", "domain", "recipe", "evaluation"]
    static let evaluationKeys: Set<String> = ["set", "figures"]

    /// The card in `directory`, nil when it has none.
    public static func load(directory: URL) throws(ModelError) -> ModelCard? {
        let url = directory.appendingPathComponent(fileName)
        guard FileManager.default.fileExists(atPath: url.path) else { return nil }
        func invalid(_ reason: String) -> ModelError { .invalidConfiguration(path: url.path, reason: reason) }
        let data: Data
        do { data = try Data(contentsOf: url) } catch { throw invalid("cannot be read: \(error.localizedDescription)") }
        guard let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else { throw invalid("not a JSON object") }
        if let unknown = Set(object.keys).subtracting(keys).sorted().first { throw invalid("unknown key '\(unknown)'") }
        if let evaluation = object["evaluation"] as? [String: Any],
           let unknown = Set(evaluation.keys).subtracting(evaluationKeys).sorted().first {
            throw invalid("unknown key 'evaluation.\(unknown)'")
        }
        let card: ModelCard
        do {
            card = try JSONDecoder().decode(ModelCard.self, from: data)
        } catch let DecodingError.keyNotFound(key, context) {
            throw invalid("missing key '\((context.codingPath + [key]).map(\.stringValue).joined(separator: "."))'")
        } catch {
            throw invalid("bad value (\(error.localizedDescription))")
        }
        let trimmed = card.domain.trimmingCharacters(in: .whitespaces)
        guard !card.name.trimmingCharacters(in: .whitespaces).isEmpty, !trimmed.isEmpty else { throw invalid("name and domain must not be empty") }
        guard !card.domain.contains("\n"), card.domain.count <= 200 else { throw invalid("domain must be one line of at most 200 characters") }
        return card
    }
}
