import Foundation

public enum SessionError: Error, LocalizedError, Sendable {
    case tokenizer(path: String, reason: String)
    case specialTokenMismatch(token: String, tokenizerID: Int?, configID: Int)
    case mediaCountMismatch(markers: Int, media: Int)
    case emptyPrompt

    public var errorDescription: String? {
        switch self {
        case let .tokenizer(path, reason): "\(path): \(reason)"
        case let .specialTokenMismatch(token, tokenizerID, configID):
            "tokenizer.json gives \(token) the id \(tokenizerID.map(String.init) ?? "none") but config.json says \(configID)"
        case let .mediaCountMismatch(markers, media):
            "the prompt has \(markers) <image> marker(s) but \(media) media file(s) were given; put one <image> where each media item belongs"
        case .emptyPrompt: "the prompt is empty"
        }
    }
}
