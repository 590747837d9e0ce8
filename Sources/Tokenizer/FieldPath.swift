import Foundation

/// Renders `Decoder.codingPath`s as the dotted field names used in error messages, e.g.
/// `pre_tokenizer.pretokenizers[1]`, and turns Foundation's `DecodingError` into
/// `TokenizerError`.
enum FieldPath {
    static func describe(_ codingPath: [any CodingKey]) -> String {
        var result = ""
        for key in codingPath {
            if let index = key.intValue {
                result += "[\(index)]"
            } else {
                result += result.isEmpty ? key.stringValue : "." + key.stringValue
            }
        }
        return result.isEmpty ? "(root)" : result
    }

    static func describe(_ codingPath: [any CodingKey], _ key: any CodingKey) -> String {
        describe(codingPath + [key])
    }

    /// `data` is the document that failed to decode; it is parsed again only to say where a
    /// syntax error is, which `JSONDecoder` does not report.
    static func tokenizerError(from error: DecodingError, data: Data) -> TokenizerError {
        switch error {
        case let .dataCorrupted(context):
            if context.codingPath.isEmpty {
                return .malformedJSON(reason: syntaxErrorDetail(data) ?? context.debugDescription)
            }
            return .invalidValue(field: describe(context.codingPath), reason: context.debugDescription)
        case let .keyNotFound(key, context):
            return .missingField(field: describe(context.codingPath, key))
        case let .typeMismatch(type, context):
            if context.codingPath.isEmpty {
                return .malformedJSON(reason: "the top level must be a JSON object (\(context.debugDescription))")
            }
            return .invalidValue(field: describe(context.codingPath), reason: "expected \(type)")
        case let .valueNotFound(type, context):
            return .invalidValue(field: describe(context.codingPath), reason: "expected \(type), found null")
        @unknown default:
            return .malformedJSON(reason: String(describing: error))
        }
    }

    private static func syntaxErrorDetail(_ data: Data) -> String? {
        do {
            _ = try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
            return nil
        } catch {
            return (error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String
        }
    }
}
