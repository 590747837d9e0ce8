import CFFmpeg
import Foundation
@testable import VideoIO

/// Runs the ffmpeg/ffprobe CLIs for reference data.
enum Tool {
    @discardableResult
    static func run(_ tool: String, _ arguments: [String]) throws -> Data {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [tool] + arguments
        // stderr goes to a file so neither pipe can fill up while we read stdout.
        let errURL = FileManager.default.temporaryDirectory.appendingPathComponent("tool-\(UUID().uuidString).err")
        FileManager.default.createFile(atPath: errURL.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: errURL) }
        let out = Pipe()
        process.standardOutput = out
        process.standardError = try FileHandle(forWritingTo: errURL)
        try process.run()
        let output = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let errors = (try? Data(contentsOf: errURL)) ?? Data()
        guard process.terminationStatus == 0 else {
            throw FixtureError("\(tool) \(arguments.joined(separator: " ")) failed: \(String(decoding: errors, as: UTF8.self))")
        }
        return output
    }

    /// ffprobe's decoded frame list for the first video stream: best-effort
    /// timestamps and durations in the stream time base, in output order.
    static func probeFrames(_ path: String) throws -> (timeBase: (num: Int64, den: Int64), frames: [(pts: Int64, duration: Int64?)]) {
        let data = try run("ffprobe", ["-v", "error", "-select_streams", "v:0",
                                       "-show_entries", "stream=time_base:frame=best_effort_timestamp,pkt_duration",
                                       "-of", "json", path])
        guard let json = try JSONSerialization.jsonObject(with: data) as? [String: Any],
              let streams = json["streams"] as? [[String: Any]], let tb = streams.first?["time_base"] as? String,
              let frames = json["frames"] as? [[String: Any]] else {
            throw FixtureError("unexpected ffprobe output for \(path)")
        }
        let parts = tb.split(separator: "/").compactMap { Int64($0) }
        guard parts.count == 2 else { throw FixtureError("bad time base \(tb)") }
        let list: [(Int64, Int64?)] = frames.compactMap { f in
            guard let pts = (f["best_effort_timestamp"] as? NSNumber)?.int64Value else { return nil }
            return (pts, (f["pkt_duration"] as? NSNumber)?.int64Value)
        }
        return ((parts[0], parts[1]), list)
    }

    /// Which decoded frames (indices in decode-output order) `ffmpeg -vf
    /// fps=F:round=up` outputs: the frame on screen at each t_k = k / F, the
    /// reader's rule. Found by matching framemd5 hashes of the filter's output
    /// against those of every decoded frame (test sources never repeat a picture).
    static func fpsFilterFrames(_ path: String, fps: Double = 1) throws -> [Int] {
        func hashes(_ filter: [String]) throws -> [String] {
            let data = try run("ffmpeg", ["-nostdin", "-v", "error", "-i", path] + filter
                               + ["-fps_mode", "passthrough", "-f", "framemd5", "-"])
            return String(decoding: data, as: UTF8.self).split(separator: "\n")
                .filter { !$0.hasPrefix("#") }
                .compactMap { $0.split(separator: ",").last.map { $0.trimmingCharacters(in: .whitespaces) } }
        }
        let all = try hashes([])
        return try hashes(["-vf", "fps=\(fps):round=up"]).map { hash in
            guard let i = all.firstIndex(of: hash) else { throw FixtureError("\(path): fps output frame not among the decoded ones") }
            return i
        }
    }

    /// The ffmpeg CLI's pictures of every frame, R x R RGB24, in ffprobe's order:
    /// autorotated by the CLI, then the centre square (`FramePreprocessor.centreSquare`
    /// mapped into the rotated picture) cropped exactly, then one bicubic scale to
    /// R x R RGB24 with the same swscale flags as ours.
    static func referencePictures(_ path: String, probe: VideoProbe, size r: Int) throws -> [[UInt8]] {
        let (w, h) = (probe.width, probe.height)
        let sarParts = probe.sampleAspectRatio.split(separator: ":").compactMap { Int32($0) }
        let sq = FramePreprocessor.centreSquare(width: w, height: h, sar: AVRationalPair(sarParts).value)
        // (x, y, width, height) of that square after the CLI's autorotation.
        let rect: (Int, Int, Int, Int) = switch probe.rotation {
        case 90: (h - sq.top - sq.height, sq.left, sq.height, sq.width)
        case 270: (sq.top, w - sq.left - sq.width, sq.height, sq.width)
        case 180: (w - sq.left - sq.width, h - sq.top - sq.height, sq.width, sq.height)
        default: (sq.left, sq.top, sq.width, sq.height)
        }
        let filter = "crop=\(rect.2):\(rect.3):\(rect.0):\(rect.1):exact=1,"
            + "scale=\(r):\(r):flags=bicubic+accurate_rnd+full_chroma_int,format=rgb24"
        let data = try Tool.run("ffmpeg", ["-nostdin", "-v", "error", "-i", path, "-vf", filter,
                                           "-fps_mode", "passthrough", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"])
        let n = r * r * 3
        return stride(from: 0, to: data.count - n + 1, by: n).map { Array(data[$0..<($0 + n)]) }
    }
}
