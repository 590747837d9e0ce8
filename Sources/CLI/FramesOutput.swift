import Foundation
import VideoIO

/// `flamingo frames` output, written line by line as the reader produces it.
/// `--json` prints one object with keys `frames`, `decoding`, `video` and `warnings`.
/// Nothing is printed before the first frame, so a file refused while it is
/// opened or decoded leaves stdout empty (the error goes to stderr).
struct FramesOutput {
    let json: Bool
    let size: Int
    private var count = 0
    private var probe: VideoProbe?
    private let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    init(json: Bool, size: Int) {
        self.json = json
        self.size = size
    }

    private func encoded(_ value: some Encodable) -> String {
        (try? encoder.encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? "null"
    }

    mutating func begin(_ p: VideoProbe) { probe = p }

    private func header(_ p: VideoProbe) {
        if json {
            print("{\n  \"frames\": [", terminator: "")
            return
        }
        print("video:      \(p.path)")
        print("container:  \(p.container)")
        print("codec:      \(p.codec) (\(p.pixelFormat), \(p.bitsPerComponent) bit\(p.interlaced ? ", interlaced" : ""))")
        print("size:       \(p.width)x\(p.height), displayed \(p.displayWidth)x\(p.displayHeight) (DAR \(p.displayAspectRatio), SAR \(p.sampleAspectRatio))")
        print("rotation:   \(p.rotation)°")
        print(String(format: "duration:   %.3f s", p.durationSeconds)
              + (p.declaredDurationSeconds.map { String(format: " (container says %.3f s)", $0) } ?? ""))
        print("frame rate: " + (p.frameRate.map { String(format: "%.3f fps", $0) } ?? "unknown"))
        print("frames:     " + (p.frameCount.map(String.init) ?? "unknown") + ", \(p.keyframeCount) keyframes")
        print(String(format: "start:      %.3f s (time base %@)", p.startTimeSeconds, p.timeBase))
        print("samples at \(size)x\(size):")
        print("  index   time_s  frame_time_s          pts")
    }

    mutating func frame(_ f: SampledFrame) {
        if count == 0, let probe { header(probe) }
        if json {
            print((count == 0 ? "\n    " : ",\n    ") + encoded(f), terminator: "")
        } else {
            print(String(format: "  %5d %8.3f %13.3f %12lld%@", f.index, f.timeSeconds, f.frameTimeSeconds,
                         f.pts, f.isKeyframe ? "  key" : ""))
        }
        count += 1
    }

    func end(_ report: SamplingReport) {
        if json {
            print("\n  ],")
            print("  \"decoding\": \(encoded(report.statistics)),")
            print("  \"video\": \(encoded(report.probe)),")
            print("  \"warnings\": \(encoded(report.warnings))\n}")
            return
        }
        print("sampled \(count) frame(s) at \(size)x\(size)")
        for warning in report.warnings { print("warning: \(warning)") }
    }
}
