import Foundation

/// A Hugging Face `tokenizer.json` BPE tokenizer (byte-level or not) that produces the same ids
/// as the Rust `tokenizers` library, version 0.13.3.
///
/// `encode` runs the stages in the library's order: added tokens are cut out of the raw text
/// (`normalized: false` ones) → the rest is normalized → `normalized: true` added tokens are cut
/// out → pre-tokenizer → BPE model → post-processor. `decode` maps ids back to tokens, drops
/// special tokens on request and runs the decoder.
///
/// Immutable after loading apart from an internal, lock-protected word cache, so one instance
/// can be shared across threads.
public final class BPETokenizer: Sendable {
    private let addedVocabulary: AddedVocabulary
    private let normalizer: Normalizer?
    private let preTokenizer: PreTokenizerPipeline
    private let model: BPEModel
    private let postProcessor: PostProcessor?
    private let decoder: TokenDecoder?

    /// One more than the largest id of the model vocabulary and the added tokens.
    public let vocabularySize: Int

    /// Loads a tokenizer.json file.
    public convenience init(contentsOf url: URL) throws {
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw TokenizerError.unreadableFile(path: url.path, reason: error.localizedDescription)
        }
        try self.init(data: data)
    }

    /// Loads a tokenizer from the contents of a tokenizer.json file.
    public init(data: Data) throws {
        let file: TokenizerFile
        do {
            file = try JSONDecoder().decode(TokenizerFile.self, from: data)
        } catch let error as TokenizerError {
            throw error
        } catch let error as DecodingError {
            throw FieldPath.tokenizerError(from: error, data: data)
        } catch {
            throw TokenizerError.malformedJSON(reason: error.localizedDescription)
        }
        model = try BPEModel(file.model)
        normalizer = file.normalizer
        preTokenizer = PreTokenizerPipeline(file.preTokenizer)
        postProcessor = file.postProcessor
        decoder = file.decoder
        addedVocabulary = AddedVocabulary(entries: file.addedTokens, model: model, normalizer: file.normalizer)
        let largestModelId = model.tokensById.keys.max() ?? -1
        let largestAddedId = addedVocabulary.entriesById.keys.max() ?? -1
        vocabularySize = max(largestModelId, largestAddedId) + 1
    }

    /// The ids of `text`, special tokens of the post-processor included (the Python
    /// `tokenizer.encode(text).ids`).
    public func encode(_ text: String) -> [Int] {
        var ids: [Int] = []
        ids.reserveCapacity(text.utf8.count / 3 + 4)
        for segment in addedVocabulary.segments(of: text, normalizer: normalizer) {
            switch segment {
            case let .token(id):
                ids.append(id)
            case let .text(piece):
                appendModelTokens(for: piece, to: &ids)
            }
        }
        return postProcessor?.process(ids) ?? ids
    }

    private func appendModelTokens(for piece: Substring, to ids: inout [Int]) {
        if let byteLevel = preTokenizer.soleByteLevel {
            byteLevel.forEachWord(in: piece) { word in
                model.appendByteLevelTokens(for: word, to: &ids)
            }
            return
        }
        let (words, byteLevelPending) = preTokenizer.words(in: piece)
        for word in words {
            if byteLevelPending {
                UTF8Scanning.withUTF8(of: word) { model.appendByteLevelTokens(for: $0, to: &ids) }
            } else {
                model.appendTokens(for: word, to: &ids)
            }
        }
    }

    /// The text of `ids`. Unknown ids are skipped; with `skipSpecialTokens`, so are the
    /// special added tokens (the Python `tokenizer.decode(ids, skip_special_tokens=...)`).
    public func decode(_ ids: [Int], skipSpecialTokens: Bool = false) -> String {
        var tokens: [String] = []
        tokens.reserveCapacity(ids.count)
        for id in ids {
            guard let token = token(forId: id) else { continue }
            if skipSpecialTokens && addedVocabulary.specialContents.contains(UTF8Key(token)) { continue }
            tokens.append(token)
        }
        guard let decoder else { return tokens.joined(separator: " ") }
        return decoder.decodeChain(tokens).joined()
    }

    /// The id of a vocabulary entry or added token, spelled as in tokenizer.json (for a
    /// byte-level vocabulary that is the byte-level form, e.g. "Ġthe").
    public func id(forToken token: String) -> Int? {
        addedVocabulary.idsByContent[token] ?? model.vocab[token]
    }

    /// The vocabulary entry or added token with this id.
    public func token(forId id: Int) -> String? {
        addedVocabulary.entriesById[id]?.content ?? model.tokensById[id]
    }
}
