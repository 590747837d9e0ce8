import Foundation

/// The language model's tokenizer.json, extended the way OpenFlamingo's
/// factory does: `add_special_tokens({"additional_special_tokens":
/// ["<|endofchunk|>", "<image>"]})`, then `<PAD>` when the tokenizer has no pad
/// token (special_tokens_map.json / tokenizer_config.json). New tokens take the
/// next ids, as Hugging Face assigns them.
final class TokenizerFile {
    let path: String
    private var json: [String: Any]
    private var ids: [String: Int] = [:]
    private let padToken: String?
    private let eosToken: String?
    /// Tokens including added ones (Hugging Face `len(tokenizer)`).
    private(set) var count = 0

    init(directory: URL) throws {
        let url = directory.appendingPathComponent("tokenizer.json")
        path = url.path
        guard FileManager.default.fileExists(atPath: path) else {
            throw ConversionError.missingFile(path: path, what: "tokenizer.json (convert slow tokenizers with transformers first)")
        }
        guard let data = try? Data(contentsOf: url), let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let model = object["model"] as? [String: Any], let vocab = model["vocab"] as? [String: Int] else {
            throw ConversionError.tokenizer(path: path, reason: "not a Hugging Face tokenizer.json with a model.vocab")
        }
        json = object
        ids = vocab
        for token in object["added_tokens"] as? [[String: Any]] ?? [] {
            if let content = token["content"] as? String, let id = token["id"] as? Int { ids[content] = id }
        }
        count = (ids.values.max() ?? -1) + 1
        var special: [String: Any] = [:]
        for name in ["tokenizer_config.json", "special_tokens_map.json"] {
            if let d = try? Data(contentsOf: directory.appendingPathComponent(name)),
               let o = try? JSONSerialization.jsonObject(with: d) as? [String: Any] {
                special.merge(o) { _, new in new }
            }
        }
        func token(_ key: String) -> String? {
            if let s = special[key] as? String { return s }
            return (special[key] as? [String: Any])?["content"] as? String
        }
        padToken = token("pad_token")
        eosToken = token("eos_token") ?? (vocab["<|endoftext|>"] != nil ? "<|endoftext|>" : nil)
    }

    var eos: Int? { eosToken.flatMap { ids[$0] } }

    func addFlamingoTokens() throws -> (endOfChunk: Int, media: Int, pad: Int) {
        func add(_ content: String) -> Int {
            if let id = ids[content] { return id }
            let id = count
            ids[content] = id
            count += 1
            var added = json["added_tokens"] as? [[String: Any]] ?? []
            added.append(["id": id, "content": content, "single_word": false, "lstrip": false, "rstrip": false,
                          "normalized": false, "special": true])
            json["added_tokens"] = added
            return id
        }
        let eoc = add("<|endofchunk|>"), media = add("<image>")
        let pad: Int
        if let padToken, let id = ids[padToken] { pad = id } else { pad = add("<PAD>") }
        return (eoc, media, pad)
    }

    func write(to url: URL) throws {
        try JSONSerialization.data(withJSONObject: json, options: [.sortedKeys]).write(to: url)
    }
}
