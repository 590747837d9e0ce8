import Foundation

/// Every way reading a video can fail. Each message names the file and says
/// what is wrong, so it can go straight to a user or into an error sidecar.
public enum VideoIOError: Error, LocalizedError, Equatable, Sendable {
    case fileNotFound(path: String)
    case unreadable(path: String, reason: String)
    case notARegularFile(path: String, kind: String)
    case symbolicLinkRefused(path: String)
    case emptyFile(path: String)
    case fileTooLarge(path: String, bytes: Int64, limit: Int64)
    case notAVideo(path: String, reason: String)
    case formatNotAllowed(path: String, format: String)
    case noVideoStream(path: String)
    case unsupportedCodec(path: String, codec: String)
    case resolutionTooLarge(path: String, width: Int, height: Int, limit: String)
    case tooLong(path: String, seconds: Double, limitSeconds: Double)
    case tooManyPackets(path: String, limit: Int)
    case timedOut(path: String, seconds: Double)
    case corrupt(path: String, decodableFrames: Int, packets: Int, detail: String)
    case fileChanged(path: String)
    case invalidOptions(reason: String)
    case ffmpeg(path: String, operation: String, message: String)

    /// A short stable identifier, for JSON output and sidecars.
    public var code: String {
        switch self {
        case .fileNotFound: "file_not_found"
        case .unreadable: "unreadable"
        case .notARegularFile: "not_a_regular_file"
        case .symbolicLinkRefused: "symbolic_link_refused"
        case .emptyFile: "empty_file"
        case .fileTooLarge: "file_too_large"
        case .notAVideo: "not_a_video"
        case .formatNotAllowed: "unsupported_format"
        case .noVideoStream: "no_video_stream"
        case .unsupportedCodec: "unsupported_codec"
        case .resolutionTooLarge: "resolution_too_large"
        case .tooLong: "too_long"
        case .tooManyPackets: "too_many_packets"
        case .timedOut: "timed_out"
        case .corrupt: "corrupt"
        case .fileChanged: "file_changed"
        case .invalidOptions: "invalid_options"
        case .ffmpeg: "ffmpeg_error"
        }
    }

    /// Whether trying the same file again later can succeed (the daemon retries these).
    public var isTransient: Bool {
        switch self {
        case .unreadable, .timedOut, .fileChanged: true
        default: false
        }
    }

    public var errorDescription: String? {
        switch self {
        case let .fileNotFound(path):
            "\(path): no such file"
        case let .unreadable(path, reason):
            "\(path): cannot be read: \(reason)"
        case let .notARegularFile(path, kind):
            "\(path): is a \(kind), not a regular file"
        case let .symbolicLinkRefused(path):
            "\(path): is a symbolic link; links are not followed here, pass the target's path"
        case let .emptyFile(path):
            "\(path): is empty (0 bytes)"
        case let .fileTooLarge(path, bytes, limit):
            "\(path): is \(bytes) bytes, over the limit of \(limit) bytes"
        case let .notAVideo(path, reason):
            "\(path): is not a video or image FFmpeg can read (\(reason))"
        case let .formatNotAllowed(path, format):
            "\(path): detected as '\(format)', a format that is not on the allow-list (`flamingo formats` lists what is accepted; playlists, concat scripts and image sequences are never opened)"
        case let .noVideoStream(path):
            "\(path): contains no video stream"
        case let .unsupportedCodec(path, codec):
            "\(path): video codec '\(codec)' is not supported"
        case let .resolutionTooLarge(path, width, height, limit):
            "\(path): resolution \(width)x\(height) exceeds the limit (\(limit))"
        case let .tooLong(path, seconds, limit):
            String(format: "%@: lasts at least %.2f s, over the limit of %.2f s", path, seconds, limit)
        case let .tooManyPackets(path, limit):
            "\(path): has more than \(limit) video packets"
        case let .timedOut(path, seconds):
            "\(path): reading took longer than the \(Self.format(seconds)) s deadline"
        case let .corrupt(path, decodable, packets, detail):
            "\(path): is corrupt: \(decodable) frame(s) decodable out of \(packets) packet(s) (\(detail))"
        case let .fileChanged(path):
            "\(path): changed while it was being read"
        case let .invalidOptions(reason):
            "invalid options: \(reason)"
        case let .ffmpeg(path, operation, message):
            "\(path): \(operation) failed: \(message)"
        }
    }

    static func format(_ seconds: Double) -> String {
        String(format: "%.1f", seconds)
    }
}
