import Foundation

/// Segment captions as WebVTT, so any player shows them next to the video.
public enum WebVTT {
    public static func render(_ segments: [Sidecar.Segment]) -> String {
        var out = "WEBVTT\n\n"
        for (i, segment) in segments.enumerated() {
            out += "\(i + 1)\n\(timestamp(segment.startS)) --> \(timestamp(segment.endS))\n"
            out += segment.caption.text.replacingOccurrences(of: "-->", with: "->") + "\n\n"
        }
        return out
    }

    static func timestamp(_ seconds: Double) -> String {
        let ms = Int((max(0, seconds) * 1000).rounded())
        return String(format: "%02d:%02d:%02d.%03d", ms / 3_600_000, ms / 60_000 % 60, ms / 1000 % 60, ms % 1000)
    }
}
