/// The BPE model: turns one pre-tokenized word into token ids (Rust `models::bpe::BPE`,
/// `merge_word` + `Word::merge_all`, without dropout).
final class BPEModel: Sendable {
    /// Token → id, as in `model.vocab`.
    let vocab: [String: Int]
    /// Id → token (`vocab_r`).
    let tokensById: [Int: String]

    private let merges: MergeTable
    /// Ids of the vocabulary entries that are exactly one scalar (the initial symbols of a word
    /// when there is no continuing-subword prefix or end-of-word suffix).
    private let singleScalarIds: [UInt32: Int]
    /// `byteLevelIds[b]` is the id of the byte-level character for byte `b`, when the model has
    /// all 256 of them and no prefix/suffix: then words can be mapped from raw UTF-8 directly.
    private let byteLevelIds: [Int]?
    /// Ids of the `<0xXX>` tokens for byte fallback (-1 where absent).
    private let byteFallbackIds: [Int]
    private let unkId: Int?
    private let fuseUnk: Bool
    private let byteFallback: Bool
    private let ignoreMerges: Bool
    private let continuingSubwordPrefix: String?
    private let endOfWordSuffix: String?

    private let byteLevelCache = WordCache(capacity: 100_000)
    private let wordCache = WordCache(capacity: 100_000)

    init(_ configuration: BPEModelConfiguration) throws {
        vocab = configuration.vocab
        var tokensById: [Int: String] = [:]
        var singleScalarIds: [UInt32: Int] = [:]
        for (token, id) in configuration.vocab {
            tokensById[id] = token
            var scalars = token.unicodeScalars.makeIterator()
            if let first = scalars.next(), scalars.next() == nil {
                singleScalarIds[first.value] = id
            }
        }
        self.tokensById = tokensById
        self.singleScalarIds = singleScalarIds

        // Rust builds the merge map with `b[prefix_len..]`, dropping the continuing-subword
        // prefix (counted in bytes) from the right-hand token.
        let prefixLength = configuration.continuingSubwordPrefix?.utf8.count ?? 0
        var merges = MergeTable()
        var rank = 0
        for rule in configuration.merges {
            guard case let .pair(left, right) = rule else { continue }
            defer { rank += 1 }
            guard let leftId = configuration.vocab[left] else {
                throw TokenizerError.unknownToken(field: "model.merges[\(rank)]", token: left)
            }
            guard let rightId = configuration.vocab[right] else {
                throw TokenizerError.unknownToken(field: "model.merges[\(rank)]", token: right)
            }
            let rightBytes = Array(right.utf8)
            guard rightBytes.count >= prefixLength else {
                throw TokenizerError.invalidValue(
                    field: "model.merges[\(rank)]",
                    reason: "'\(right)' is shorter than the continuing_subword_prefix")
            }
            let merged = left + String(decoding: rightBytes[prefixLength...], as: UTF8.self)
            guard let newId = configuration.vocab[merged] else {
                throw TokenizerError.unknownToken(field: "model.merges[\(rank)]", token: merged)
            }
            merges.insert(left: leftId, right: rightId, rank: rank, newId: newId)
        }
        self.merges = merges

        var byteFallbackIds = [Int](repeating: -1, count: 256)
        for byte in 0..<256 {
            byteFallbackIds[byte] = configuration.vocab[Self.byteFallbackToken(UInt8(byte))] ?? -1
        }
        self.byteFallbackIds = byteFallbackIds

        if let unkToken = configuration.unkToken {
            // Rust fails on the first word that needs the unk token; failing at load is clearer.
            guard let id = configuration.vocab[unkToken] else {
                throw TokenizerError.unknownToken(field: "model.unk_token", token: unkToken)
            }
            unkId = id
        } else {
            unkId = nil
        }
        fuseUnk = configuration.fuseUnk
        byteFallback = configuration.byteFallback
        ignoreMerges = configuration.ignoreMerges
        continuingSubwordPrefix = configuration.continuingSubwordPrefix
        endOfWordSuffix = configuration.endOfWordSuffix

        if continuingSubwordPrefix == nil && endOfWordSuffix == nil {
            let ids = ByteLevelAlphabet.scalarForByte.compactMap { singleScalarIds[$0.value] }
            byteLevelIds = ids.count == 256 ? ids : nil
        } else {
            byteLevelIds = nil
        }
    }

    /// Rust: `format!("<{:#04X}>", b)`, e.g. `<0x0A>`.
    static func byteFallbackToken(_ byte: UInt8) -> String {
        let digits = Array("0123456789ABCDEF")
        return "<0x\(digits[Int(byte >> 4)])\(digits[Int(byte & 0x0F)])>"
    }

    /// Appends the ids of a word given as raw UTF-8 that the `ByteLevel` pre-tokenizer has yet
    /// to rewrite into the byte-level alphabet.
    func appendByteLevelTokens(for word: UnsafeBufferPointer<UInt8>, to ids: inout [Int]) {
        guard !word.isEmpty else { return }
        guard let byteLevelIds, !ignoreMerges else {
            appendTokens(for: Substring(ByteLevelAlphabet.encode(word)), to: &ids)
            return
        }
        if word.count == 1 {
            ids.append(byteLevelIds[Int(word[0])])
            return
        }
        let key = UTF8Key(String(decoding: word, as: UTF8.self))
        if let cached = byteLevelCache.ids(for: key) {
            ids.append(contentsOf: cached)
            return
        }
        // Every byte-level character is in the vocabulary, so neither byte fallback nor the
        // unk token can come into play.
        var bpeWord = BPEWord(capacity: word.count)
        for byte in word {
            bpeWord.add(id: byteLevelIds[Int(byte)], byteLength: 1)
        }
        bpeWord.mergeAll(merges)
        var result: [Int] = []
        result.reserveCapacity(word.count)
        bpeWord.appendIds(to: &result)
        byteLevelCache.store(result, for: key)
        ids.append(contentsOf: result)
    }

    /// Appends the ids of a word whose characters are the initial symbols.
    func appendTokens(for word: Substring, to ids: inout [Int]) {
        guard !word.isEmpty else { return }
        let text = String(word)
        if ignoreMerges, let id = vocab[text] {
            ids.append(id)
            return
        }
        let key = UTF8Key(text)
        if let cached = wordCache.ids(for: key) {
            ids.append(contentsOf: cached)
            return
        }
        var bpeWord = initialSymbols(of: text)
        bpeWord.mergeAll(merges)
        var result: [Int] = []
        bpeWord.appendIds(to: &result)
        wordCache.store(result, for: key)
        ids.append(contentsOf: result)
    }

    /// The word's characters as symbols, with the continuing-subword prefix, end-of-word
    /// suffix, byte fallback and unk handling of Rust's `merge_word`.
    private func initialSymbols(of word: String) -> BPEWord {
        let scalars = Array(word.unicodeScalars)
        var bpeWord = BPEWord(capacity: scalars.count)
        var pendingUnk: (id: Int, length: Int)?
        for (index, scalar) in scalars.enumerated() {
            let byteLength = UTF8.width(scalar)
            let isFirst = index == 0
            let isLast = index == scalars.count - 1
            var symbol: String?
            let id: Int?
            if continuingSubwordPrefix == nil && endOfWordSuffix == nil {
                id = singleScalarIds[scalar.value]
            } else {
                var text = String(scalar)
                if !isFirst, let prefix = continuingSubwordPrefix { text = prefix + text }
                if isLast, let suffix = endOfWordSuffix { text += suffix }
                symbol = text
                id = vocab[text]
            }

            if let id {
                if let unk = pendingUnk {
                    bpeWord.add(id: unk.id, byteLength: unk.length)
                    pendingUnk = nil
                }
                bpeWord.add(id: id, byteLength: byteLength)
                continue
            }
            if byteFallback {
                // The fallback covers the symbol as looked up, prefix/suffix included.
                let bytes = Array((symbol ?? String(scalar)).utf8)
                let fallbackIds = bytes.map { byteFallbackIds[Int($0)] }
                if !fallbackIds.contains(-1) {
                    // Rust adds these directly, without flushing a pending unk first.
                    for fallbackId in fallbackIds {
                        bpeWord.add(id: fallbackId, byteLength: 1)
                    }
                    continue
                }
            }
            if let unkId {
                if let unk = pendingUnk {
                    if fuseUnk {
                        pendingUnk = (unk.id, unk.length + byteLength)
                    } else {
                        bpeWord.add(id: unk.id, byteLength: unk.length)
                        pendingUnk = (unkId, byteLength)
                    }
                } else {
                    pendingUnk = (unkId, byteLength)
                }
            }
            // Without an unk token the character is dropped, as in Rust.
        }
        if let unk = pendingUnk {
            bpeWord.add(id: unk.id, byteLength: unk.length)
        }
        return bpeWord
    }
}
