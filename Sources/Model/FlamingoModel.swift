import Foundation
import Tensor
import Weights

/// A Flamingo model loaded from a model directory (config.json +
/// model.safetensors with OpenFlamingo's canonical tensor names): frozen
/// vision encoder, Perceiver Resampler, and a decoder language model
/// (MosaicGPT, MPT or GPT-NeoX) with gated cross-attention blocks before every
/// `every_n_layers`-th block.
public final class FlamingoModel: Sendable {
    public let configuration: FlamingoConfiguration
    /// The directory's model_card.json, if it has one.
    public let card: ModelCard?
    /// The directory's in-domain statistics (domain_stats.safetensors), if it has them.
    public let domain: DomainStatistics?
    public let vision: VisionEncoder
    public let resampler: PerceiverResampler
    /// (vocab, d): the input embeddings.
    let wte: WeightMatrix
    /// (vocab, d): the output head; nil when tied to `wte`.
    let head: WeightMatrix?
    let blocks: [any DecoderBlock]
    /// One per LM block, nil where the block has no cross-attention before it.
    let crossAttention: [GatedCrossAttentionBlock?]
    let lnF: LayerNorm

    /// `keepHalfPrecision`: F16/BF16 language-model weights (blocks, embeddings, head) stay in the
    /// memory-mapped file and are widened per tile when used; the vision side is always float32.
    public static func load(directory: URL, keepHalfPrecision: Bool = true) throws(ModelError) -> FlamingoModel {
        let config = try FlamingoConfiguration.load(from: directory.appendingPathComponent("config.json"))
        let card = try ModelCard.load(directory: directory)
        let domain = try DomainStatistics.load(directory: directory, width: config.vision.width)
        let (model, store): (FlamingoModel, WeightStore)
        do throws(WeightError) {
            store = try WeightStore(directory: directory)
            model = try FlamingoModel(config: config, store: store, keepHalf: keepHalfPrecision, card: card, domain: domain)
            try store.verifyAllConsumed()
        } catch {
            throw .weights(error)
        }
        // The config says whether and how the weights are quantized; the tensors must agree.
        let path = directory.appendingPathComponent("config.json").path
        let (int8, q4) = (store.int8MatrixCount, store.q4MatrixCount)
        switch config.quantization?.method {
        case nil where int8 > 0:
            throw .invalidConfiguration(path: path, reason: "\(int8) linear weight(s) are int8 (I8) but the config has no quantization entry")
        case nil where q4 > 0:
            throw .invalidConfiguration(path: path, reason: "\(q4) linear weight(s) are 4-bit (U8) but the config has no quantization entry")
        case "int8_per_row"? where q4 > 0:
            throw .invalidConfiguration(path: path, reason: "quantization is int8_per_row but \(q4) linear weight(s) are 4-bit (U8)")
        case "int8_per_row"? where int8 == 0:
            throw .invalidConfiguration(path: path, reason: "quantization is int8_per_row but no linear weight is int8")
        case "q4_block32"? where int8 > 0:
            throw .invalidConfiguration(path: path, reason: "quantization is q4_block32 but \(int8) linear weight(s) are int8 (I8)")
        case "q4_block32"? where q4 == 0:
            throw .invalidConfiguration(path: path, reason: "quantization is q4_block32 but no linear weight is 4-bit")
        default: break
        }
        return model
    }

    /// The keys of every linear layer's weight in the model in `directory`, in
    /// load order, and the store that holds them (`flamingo quantize`).
    public static func linearWeights(directory: URL) throws(ModelError) -> (keys: [String], store: WeightStore) {
        let config = try FlamingoConfiguration.load(from: directory.appendingPathComponent("config.json"))
        do {
            let store = try WeightStore(directory: directory)
            _ = try FlamingoModel(config: config, store: store, keepHalf: true)
            return (store.linearWeightKeys, store)
        } catch {
            throw .weights(error)
        }
    }

    init(config c: FlamingoConfiguration, store: WeightStore, keepHalf: Bool = true, card: ModelCard? = nil,
         domain: DomainStatistics? = nil) throws(WeightError) {
        self.card = card
        self.domain = domain
        configuration = c
        vision = try VisionEncoder(store, config: c.vision)
        resampler = try PerceiverResampler(store, config: c.resampler, width: c.vision.width)
        let lm = c.languageModel, d = lm.dModel
        // OpenFlamingo's names: the HF model's own keys under lang_encoder., each decoder layer
        // wrapped as <layers>.{i}.decoder_layer with <layers>.{i}.gated_cross_attn_layer beside it.
        let names = lm.family.names, neox = lm.family == .gptNeoX
        wte = try store.takeMatrix("lang_encoder.\(names.inputEmbedding)", shape: [lm.vocabSize, d], keepHalf: keepHalf)
        head = lm.tieWordEmbeddings ? nil : try store.takeMatrix("lang_encoder.\(names.outputHead)", shape: [lm.vocabSize, d], keepHalf: keepHalf)
        var blocks: [any DecoderBlock] = []
        var cross: [GatedCrossAttentionBlock?] = []
        for i in 0..<lm.nLayers {
            let prefix = "lang_encoder.\(names.layer(i))"
            blocks.append(neox ? try GPTNeoXBlock(store, "\(prefix).decoder_layer", config: lm, keepHalf: keepHalf)
                               : try MosaicGPTBlock(store, "\(prefix).decoder_layer", config: lm, keepHalf: keepHalf))
            cross.append(c.hasCrossAttention(beforeLayer: i)
                ? try GatedCrossAttentionBlock(store, "\(prefix).gated_cross_attn_layer", width: d,
                                               visionWidth: c.vision.width, config: c.crossAttention)
                : nil)
        }
        self.blocks = blocks
        crossAttention = cross
        lnF = try LayerNorm(store, "lang_encoder.\(names.finalNorm)", width: d, bias: neox || !lm.noBias, eps: lm.layerNormEps)
    }

    /// Parameters of the language model (blocks, cross-attention, embeddings, final norm):
    /// what one decode step streams from memory.
    public var languageModelParameterCount: Int {
        let blockParameters = blocks.reduce(0) { $0 + $1.parameterCount }
        let crossParameters = crossAttention.compactMap { $0 }.reduce(0) { total, x in
            total + x.toQ.weight.count + x.toKV.weight.count + x.toOut.weight.count + x.feedForward.up.weight.count
                + x.feedForward.down.weight.count
        }
        return blockParameters + crossParameters + wte.count + (head?.count ?? 0) + lnF.weight.count
    }

    /// Linear-layer weights kept in int8 at rest.
    public var parametersKeptInInt8: Int {
        let matrices = [wte] + (head.map { [$0] } ?? []) + blocks.flatMap(\.linearWeights)
        return matrices.filter(\.isInt8).reduce(0) { $0 + $1.count }
    }

    /// Bytes of weights one decode step streams: every matrix of the language model and its
    /// cross-attention blocks at its size at rest (the cross-attention's to_kv is applied to the media
    /// once, not per token, and is left out), plus the vectors (norms, biases, gates) in float32.
    public var languageModelBytesPerToken: Int {
        let cross = crossAttention.compactMap { $0 }
        let perToken = [wte] + (head.map { [$0] } ?? []) + blocks.flatMap(\.linearWeights)
            + cross.flatMap { [$0.toQ.weight, $0.toOut.weight, $0.feedForward.up.weight, $0.feedForward.down.weight] }
        let matrixParameters = perToken.reduce(0) { $0 + $1.count } + cross.reduce(0) { $0 + $1.toKV.weight.count }
        return perToken.reduce(0) { $0 + $1.bytesAtRest } + 4 * (languageModelParameterCount - matrixParameters)
    }

    /// How the weights are kept: the quantization method, or F16/BF16 or F32 at rest.
    public var weightsDescription: String {
        configuration.quantization?.method ?? (parametersKeptInHalfPrecision > 0 ? "F16/BF16 at rest" : "F32")
    }

    /// Linear-layer weights kept in 4 bits (the language model's), the parameter count.
    public var parametersKeptInQ4: Int {
        let matrices = [wte] + (head.map { [$0] } ?? []) + blocks.flatMap(\.linearWeights)
        return matrices.filter(\.isQ4).reduce(0) { $0 + $1.count }
    }

    /// Weights kept in F16/BF16 at rest (0 when everything was widened on load).
    public var parametersKeptInHalfPrecision: Int {
        let matrices = [wte] + (head.map { [$0] } ?? []) + blocks.flatMap(\.linearWeights)
        return matrices.filter(\.isHalf).reduce(0) { $0 + $1.count }
    }

    // MARK: - Media

    /// One media item (an image: 1 frame; a video: its sampled frames) as
    /// pixels (frames, 3, R, R), normalised, to its visual tokens (num_latents, D).
    public func encodeMedia(pixels: [Float], frames: Int, mediaIndex: Int = 0, zeroTemporalEmbeddings: Bool = false) throws(ModelError) -> [Float] {
        try resample(visionFeatures(pixels: pixels, frames: frames), frames: frames, mediaIndex: mediaIndex,
                     zeroTemporalEmbeddings: zeroTemporalEmbeddings)
    }

    /// `encodeMedia`, and the media item's in-domain check from the same vision features (nil when the
    /// model has no statistics): the score costs a mean over each frame's tokens and one distance.
    public func encodeMediaChecked(pixels: [Float], frames: Int, mediaIndex: Int = 0,
                                   zeroTemporalEmbeddings: Bool = false) throws(ModelError) -> (latents: [Float], domain: DomainCheck?) {
        let features = try visionFeatures(pixels: pixels, frames: frames)
        let check = domain?.check(visionFeatures: features, frames: frames)
        return (try resample(features, frames: frames, mediaIndex: mediaIndex, zeroTemporalEmbeddings: zeroTemporalEmbeddings), check)
    }

    /// The vision encoder's patch tokens (frames, patches, width) for pixels (frames, 3, R, R).
    public func visionFeatures(pixels: [Float], frames: Int) throws(ModelError) -> [Float] {
        let r = configuration.vision.imageSize
        guard frames >= 1, pixels.count == frames * 3 * r * r else {
            throw .invalidInput("media pixels must be (frames, 3, \(r), \(r)); got \(pixels.count) values for \(frames) frame(s)")
        }
        return vision.encode(pixels: pixels, frames: frames)
    }

    /// Patch tokens from `visionFeatures` to the media item's visual tokens (num_latents, D).
    public func resample(_ features: [Float], frames: Int, mediaIndex: Int = 0, zeroTemporalEmbeddings: Bool = false) throws(ModelError) -> [Float] {
        try resampler.resample(features: features, frames: frames, tokens: configuration.vision.patches,
                               mediaIndex: mediaIndex, zeroTemporalEmbeddings: zeroTemporalEmbeddings)
    }

    /// Cross-attention keys and values for a prompt's media, per layer: computed
    /// once and reused for every token.
    public struct MediaMemory: Sendable {
        public let count: Int
        let perLayer: [[Float]?]
    }

    public func mediaMemory(_ media: [[Float]]) -> MediaMemory {
        let n = configuration.resampler.numLatents
        return MediaMemory(count: media.count, perLayer: crossAttention.map { $0?.memory(media: media, latents: n) })
    }

    // MARK: - Language model

    /// What the decoder has seen: the self-attention cache and the number of
    /// `<image>` tokens so far (the media time of the next token).
    public struct DecoderState: Sendable {
        public var cache: KVCache
        public var mediaTokensSeen = 0
        public var length: Int { cache.length }
    }

    public func makeState(capacity: Int? = nil) -> DecoderState {
        let lm = configuration.languageModel
        return DecoderState(cache: KVCache(layers: lm.nLayers, capacity: capacity ?? lm.maxSeqLen, width: lm.dModel))
    }

    public struct Output: Sendable {
        /// (rows, vocab): every position's logits, or only the last position's.
        public var logits: [Float]
        /// With `captureHidden`: the embeddings, each layer's output and the
        /// final-norm output, each (S, d).
        public var embeddings: [Float]?
        public var hidden: [[Float]]?
        public var final: [Float]?
    }

    /// Runs `tokens` through the decoder after what `state` holds, appending them.
    public func forward(
        tokens: [Int], state: inout DecoderState, media: MediaMemory, allLogits: Bool = false, captureHidden: Bool = false
    ) throws(ModelError) -> Output {
        let lm = configuration.languageModel, d = lm.dModel, s = tokens.count
        guard s > 0 else { throw .invalidInput("no tokens to run") }
        guard state.length + s <= state.cache.capacity else {
            throw .invalidInput("the sequence (\(state.length + s) tokens) exceeds the model's context of \(state.cache.capacity)")
        }
        var x = [Float](repeating: 0, count: s * d)
        var mediaTime = [Int](repeating: 0, count: s)
        var seen = state.mediaTokensSeen
        for (r, id) in tokens.enumerated() {
            guard (0..<lm.vocabSize).contains(id) else { throw .invalidInput("token id \(id) is outside the vocabulary (\(lm.vocabSize))") }
            if id == configuration.specialTokens.media { seen += 1 }
            mediaTime[r] = seen
            x.withUnsafeMutableBufferPointer { wte.widen(rows: id..<(id + 1), into: $0.baseAddress! + r * d) }
        }
        guard seen <= media.count || media.count == 0 && seen == 0 else {
            throw .invalidInput("the prompt has \(seen) <image> token(s) but \(media.count) media item(s) were given")
        }
        var output = Output(logits: [])
        if captureHidden { output.embeddings = x; output.hidden = [] }
        let n = configuration.resampler.numLatents
        for i in 0..<blocks.count {
            if let cross = crossAttention[i], let memory = media.perLayer[i] {
                cross.apply(&x, rows: s, mediaTime: mediaTime, memory: memory, mediaCount: media.count, latents: n)
            } else if let cross = crossAttention[i] {
                cross.apply(&x, rows: s, mediaTime: mediaTime, memory: [], mediaCount: 0, latents: n)
            }
            blocks[i].apply(&x, rows: s, layer: i, cache: &state.cache)
            if captureHidden { output.hidden?.append(x) }
        }
        state.cache.advance(by: s)
        state.mediaTokensSeen = seen
        let rows = allLogits ? s : 1
        var last = allLogits ? x : Array(x[((s - 1) * d)..<(s * d)])
        last.withUnsafeMutableBufferPointer { lnF.apply($0.baseAddress!, rows: rows) }
        if captureHidden { output.final = allLogits ? last : nil }
        output.logits = Linear(matrix: head ?? wte, bias: nil)(last, rows: rows)
        return output
    }
}
