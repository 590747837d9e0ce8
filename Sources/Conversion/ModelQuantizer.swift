import CHalf
import Foundation
import Model
import Weights

/// `flamingo quantize`: a model directory with every linear layer's weight as
/// int8 at rest, one float32 scale per output row (symmetric: scale =
/// max|row| / 127, values rounded half away from zero), stored as
/// `<key>` (I8) and `<key>_scale` (F32, [rows]); config.json gains
/// `"quantization": {"method": "int8_per_row"}`. With 4 bits: blocks of 32
/// with an F16 scale each, `<key>` (U8, [rows, columns / 2]) and
/// `<key>_scale` (F16, [rows, columns / 32]), method "q4_block32" (a weight
/// whose width is not a multiple of 32 keeps its dtype). Embeddings, LayerNorms,
/// biases, latents, gates and the temporal embeddings keep their dtype, and so
/// does a linear weight whose size is not a multiple of 8 (so every tensor
/// after it stays aligned). The result is loaded back with the strict loader
/// before the call returns. docs/QUANTIZATION.md describes the format.
public enum ModelQuantizer {
    public struct Summary: Sendable {
        /// Linear weights written as int8, and the tensors kept as they were.
        public var quantized: Int
        public var kept: Int
        /// Bytes of tensor data before and after.
        public var bytesBefore: Int
        public var bytesAfter: Int
    }

    /// Weight bits: 8 (int8_per_row) or 4 (q4_block32).
    public static func quantize(model directory: URL, to out: URL, bits: Int = 8) throws -> Summary {
        guard bits == 8 || bits == 4 else {
            throw ConversionError.quantization(reason: "--bits \(bits): 8 and 4 are supported")
        }
        let configURL = directory.appendingPathComponent("config.json")
        let config = try FlamingoConfiguration.load(from: configURL)
        guard config.quantization == nil else {
            throw ConversionError.quantization(reason: "\(directory.path): the model is already quantized (\(config.quantization?.method ?? ""))")
        }
        let (linear, store) = try FlamingoModel.linearWeights(directory: directory)
        let linearKeys = Set(linear)
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)

        var tensors: [String: SafetensorsWriter.Tensor] = [:]
        var summary = Summary(quantized: 0, kept: 0, bytesBefore: 0, bytesAfter: 0)
        for key in store.keys {
            guard let (dtype, shape) = store.entry(key) else { continue }
            let count = shape.reduce(1, *)
            let size = SafetensorsWriter.DType(rawValue: dtype)?.size ?? 4
            summary.bytesBefore += count * size
            let fits = bits == 8 ? count % 8 == 0 : shape.count == 2 && shape[1] % 32 == 0
            guard linearKeys.contains(key), shape.count == 2, fits, ["F32", "F16", "BF16"].contains(dtype) else {
                guard let kept = SafetensorsWriter.DType(rawValue: dtype), kept != .i8, kept != .u8 else {
                    throw ConversionError.quantization(reason: "\(key): dtype \(dtype) cannot be copied (F32, F16 and BF16 can)")
                }
                tensors[key] = .init(shape: shape, dtype: kept) { try store.values(key) }
                summary.kept += 1
                summary.bytesAfter += count * size
                continue
            }
            // The weight and its scales are computed once, when the writer asks for the first of the two.
            let quantized = QuantizedRows(rows: shape[0], columns: shape[1], bits: bits) { try store.values(key) }
            if bits == 8 {
                tensors[key] = .init(shape: shape, dtype: .i8) { try quantized.values() }
                tensors["\(key)_scale"] = .init(shape: [shape[0]], dtype: .f32) { try quantized.scales() }
                summary.bytesAfter += count + 4 * shape[0]
            } else {
                tensors[key] = .init(shape: [shape[0], shape[1] / 2], dtype: .u8) { try quantized.values() }
                tensors["\(key)_scale"] = .init(shape: [shape[0], shape[1] / 32], dtype: .f16) { try quantized.scales() }
                summary.bytesAfter += count / 2 + 2 * (count / 32)
            }
            summary.quantized += 1
        }
        try SafetensorsWriter.write(tensors, dtype: .f32, metadata: ["format": "pt", "quantized_by": "flamingo quantize"],
                                    to: out.appendingPathComponent("model.safetensors"))

        // config.json: the original text's keys, plus the quantization entry.
        guard var json = try JSONSerialization.jsonObject(with: Data(contentsOf: configURL)) as? [String: Any] else {
            throw ConversionError.quantization(reason: "\(configURL.path): not a JSON object")
        }
        json["quantization"] = ["method": bits == 8 ? "int8_per_row" : "q4_block32"]
        try JSONSerialization.data(withJSONObject: json, options: [.prettyPrinted, .sortedKeys])
            .write(to: out.appendingPathComponent("config.json"), options: .atomic)
        // The model card, if any, says how this copy was made.
        if var card = try ModelCard.load(directory: directory) {
            card.recipe += "; linear layers quantized by flamingo quantize (\(bits == 8 ? "int8_per_row" : "q4_block32"))"
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            try encoder.encode(card).write(to: out.appendingPathComponent(ModelCard.fileName), options: .atomic)
        }
        for name in ["tokenizer.json", DomainStatistics.fileName] {
            let source = directory.appendingPathComponent(name), target = out.appendingPathComponent(name)
            guard FileManager.default.fileExists(atPath: source.path) else { continue }
            try? FileManager.default.removeItem(at: target)
            try FileManager.default.copyItem(at: source, to: target)
        }
        // Strict load of what was written: every tensor, every shape, and the config agreeing with them.
        _ = try FlamingoModel.load(directory: out)
        return summary
    }
}

/// One matrix quantized when the writer asks for its values; the scales are
/// kept until the writer asks for them next (keys sort `w` before `w_scale`).
private final class QuantizedRows {
    let rows: Int
    let columns: Int
    let load: () throws -> [Float]
    private var pendingScales: [Float]?

    let bits: Int

    init(rows: Int, columns: Int, bits: Int, load: @escaping () throws -> [Float]) {
        self.rows = rows
        self.columns = columns
        self.bits = bits
        self.load = load
    }

    /// The int8 values, or the packed 4-bit bytes, as floats for the writer.
    func values() throws -> [Float] {
        let weights = try load()
        if bits == 4 {
            var packed = [UInt8](repeating: 0, count: rows * columns / 2)
            var scales = [UInt16](repeating: 0, count: rows * columns / 32)
            flamingo_q4_quantize_rows(weights, rows, columns, &packed, &scales)
            pendingScales = scales.map { Float(Float16(bitPattern: $0)) }
            return packed.map(Float.init)
        }
        var q = [Int8](repeating: 0, count: rows * columns)
        var scales = [Float](repeating: 0, count: rows)
        flamingo_i8_quantize_rows(weights, rows, columns, &q, &scales)
        pendingScales = scales
        return q.map(Float.init)
    }

    func scales() throws -> [Float] {
        if pendingScales == nil { _ = try values() }
        defer { pendingScales = nil }
        return pendingScales ?? []
    }
}
