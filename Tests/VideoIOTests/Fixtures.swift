import Foundation
import XCTest

/// Test videos made at test time with the ffmpeg CLI from lavfi sources, cached
/// in the temporary directory under a name derived from the exact recipe.
/// XCTest runs tests one at a time, so generation needs no locking.
enum Fixtures {
    /// name -> ffmpeg arguments after `-y` (output path appended; `IN:` prefixes an input fixture).
    static let recipes: [String: [String]] = [
        // Constant frame rate, no B-frames, a keyframe every second.
        "cfr.mp4": ["-f", "lavfi", "-i", "testsrc2=size=320x240:rate=30", "-t", "4",
                    "-c:v", "libx264", "-bf", "0", "-g", "30", "-pix_fmt", "yuv420p"],
        // B-frames with pyramid and reordering, one long GOP.
        "bframes.mp4": ["-f", "lavfi", "-i", "testsrc2=size=320x240:rate=30", "-t", "5",
                        "-c:v", "libx264", "-bf", "3", "-b_strategy", "0", "-g", "250", "-pix_fmt", "yuv420p"],
        // Short GOPs with B-frames: many planned runs, decoded in parallel.
        "shortgop.mkv": ["-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25", "-t", "8",
                         "-c:v", "libx264", "-bf", "2", "-g", "12", "-pix_fmt", "yuv420p"],
        // Variable frame rate: a 0.7 s gap at frame 50, irregular steps after frame 80.
        "vfr.mkv": ["-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25", "-t", "5",
                    "-vf", "settb=1/1000,setpts='N*40+if(gte(N,50),700,0)+if(gte(N,80),mod(N,3)*13,0)'",
                    "-fps_mode", "vfr", "-c:v", "libx264", "-bf", "2", "-g", "50"],
        // Timestamps that start at 4.6 s (mpegts adds 1.4 s to the 3.2 s offset).
        "offset.ts": ["-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25", "-t", "4",
                      "-c:v", "libx264", "-bf", "2", "-g", "25", "-output_ts_offset", "3.2"],
        // Negative start: an edit list hides the first 0.5 s (negative pts frames are discarded).
        "negative.mp4": ["-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25", "-t", "4",
                         "-c:v", "libx264", "-bf", "2", "-g", "250", "-output_ts_offset", "-0.5",
                         "-avoid_negative_ts", "disabled"],
        "landscape.mp4": ["-f", "lavfi", "-i", "testsrc2=size=320x180:rate=30", "-t", "3",
                          "-c:v", "libx264", "-g", "30", "-pix_fmt", "yuv420p"],
        // Display matrix 90°: FFmpeg 5.1 keeps the rotate tag only with -c copy.
        "rotated.mp4": ["-i", "IN:landscape.mp4", "-c", "copy", "-metadata:s:v", "rotate=90"],
        "tenbit.mkv": ["-f", "lavfi", "-i", "testsrc2=size=320x240:rate=30", "-t", "3",
                       "-c:v", "libx264", "-pix_fmt", "yuv420p10le", "-g", "30"],
        "yuv444.mp4": ["-f", "lavfi", "-i", "testsrc2=size=320x240:rate=30", "-t", "3",
                       "-c:v", "libx264", "-pix_fmt", "yuv444p", "-g", "30"],
        "yuv422.mkv": ["-f", "lavfi", "-i", "testsrc2=size=320x240:rate=30", "-t", "3",
                       "-c:v", "libx264", "-pix_fmt", "yuv422p", "-g", "30"],
        "gray.mkv": ["-f", "lavfi", "-i", "testsrc2=size=320x240:rate=10", "-t", "3",
                     "-c:v", "ffv1", "-pix_fmt", "gray"],
        "rgb.mkv": ["-f", "lavfi", "-i", "testsrc2=size=320x240:rate=10", "-t", "3",
                    "-c:v", "ffv1", "-pix_fmt", "bgr0"],
        "alpha.mov": ["-f", "lavfi", "-i", "testsrc2=size=320x240:rate=10", "-t", "3",
                      "-vf", "format=rgba,colorchannelmixer=aa=0.5", "-c:v", "png"],
        // A square scene centred in a 16:9 frame.
        "pillarbox.mp4": ["-f", "lavfi", "-i", "testsrc2=size=240x240:rate=30", "-t", "3",
                          "-vf", "pad=428:240:94:0", "-c:v", "libx264", "-pix_fmt", "yuv420p", "-g", "30"],
        // Non-square pixels: 320x240 coded, 4:3 pixels, displayed 427x240.
        "anamorphic.mp4": ["-f", "lavfi", "-i", "testsrc2=size=320x240:rate=30", "-t", "3",
                           "-vf", "setsar=4/3", "-c:v", "libx264", "-pix_fmt", "yuv420p", "-g", "30"],
        "odd.webm": ["-f", "lavfi", "-i", "testsrc2=size=161x97:rate=24", "-t", "3",
                     "-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8", "-g", "24"],
        "interlaced.mkv": ["-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25", "-t", "3",
                           "-c:v", "libx264", "-flags", "+ildct+ilme", "-x264opts", "tff=1", "-pix_fmt", "yuv420p"],
        "mpeg4.avi": ["-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25", "-t", "4",
                      "-c:v", "mpeg4", "-q:v", "3", "-g", "25"],
        "flv1.flv": ["-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25", "-t", "3", "-c:v", "flv1", "-q:v", "3"],
        "theora.ogv": ["-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25", "-t", "3", "-c:v", "libtheora", "-q:v", "7"],
        "mpeg2.mxf": ["-f", "lavfi", "-i", "testsrc2=size=720x576:rate=25", "-t", "3",
                      "-c:v", "mpeg2video", "-q:v", "3", "-g", "12"],
        "vp9.webm": ["-f", "lavfi", "-i", "testsrc2=size=320x240:rate=30", "-t", "4",
                     "-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8", "-g", "60"],
        "still.png": ["-f", "lavfi", "-i", "testsrc2=size=300x200", "-frames:v", "1"],
        "still.jpg": ["-f", "lavfi", "-i", "testsrc2=size=300x200", "-frames:v", "1", "-q:v", "2"],
        "still.webp": ["-f", "lavfi", "-i", "testsrc2=size=300x200", "-frames:v", "1", "-c:v", "libwebp", "-quality", "95"],
        // Moov atom first, so a truncated copy still opens.
        "faststart.mp4": ["-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25", "-t", "6",
                          "-c:v", "libx264", "-bf", "0", "-g", "25", "-movflags", "+faststart"],
        "audio.m4a": ["-f", "lavfi", "-i", "sine=frequency=440", "-t", "2", "-c:a", "aac"],
        "huffyuv.avi": ["-f", "lavfi", "-i", "testsrc2=size=160x120:rate=10", "-t", "1", "-c:v", "huffyuv"],
        "small.mp4": ["-f", "lavfi", "-i", "testsrc2=size=96x64:rate=15", "-t", "3",
                      "-c:v", "libx264", "-bf", "2", "-g", "15"],
        "small.webm": ["-f", "lavfi", "-i", "testsrc2=size=96x64:rate=15", "-t", "3",
                       "-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8", "-g", "15"],
        "small.avi": ["-f", "lavfi", "-i", "testsrc2=size=96x64:rate=15", "-t", "3", "-c:v", "mpeg4", "-g", "15"],
        "small.ts": ["-f", "lavfi", "-i", "testsrc2=size=96x64:rate=15", "-t", "3", "-c:v", "libx264", "-g", "15"],
    ]

    static var directory: URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("flamingo-test-fixtures")
        try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    /// Path of fixture `name`, generated on first use.
    static func path(_ name: String) throws -> String {
        guard let recipe = recipes[name] else { throw FixtureError("no recipe for \(name)") }
        let key = String(UInt64(bitPattern: Int64(recipe.joined(separator: " ").hashValueStable)), radix: 16)
        let url = directory.appendingPathComponent("\(key)-\(name)")
        if FileManager.default.fileExists(atPath: url.path) { return url.path }
        var args = ["-nostdin", "-v", "error", "-y"]
        for a in recipe {
            if a.hasPrefix("IN:") {
                args.append(try path(String(a.dropFirst(3))))
            } else {
                args.append(a)
            }
        }
        let partial = url.path + ".partial" + (url.pathExtension.isEmpty ? "" : ".\(url.pathExtension)")
        args += ["-f", muxer(for: name), partial]
        try Tool.run("ffmpeg", args)
        try FileManager.default.moveItem(atPath: partial, toPath: url.path)
        return url.path
    }

    private static func muxer(for name: String) -> String {
        switch (name as NSString).pathExtension {
        case "mp4": "mp4"
        case "m4a": "ipod"
        case "mov": "mov"
        case "mkv": "matroska"
        case "webm": "webm"
        case "ts": "mpegts"
        case "avi": "avi"
        case "flv": "flv"
        case "ogv": "ogg"
        case "mxf": "mxf"
        case "png", "jpg", "webp": "image2"
        default: "matroska"
        }
    }

    /// A fresh scratch directory for one test.
    static func scratch() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("flamingo-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }
}

struct FixtureError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

extension String {
    /// FNV-1a: stable across processes, unlike `hashValue`.
    var hashValueStable: Int {
        var h: UInt64 = 0xcbf29ce484222325
        for b in utf8 {
            h ^= UInt64(b)
            h = h &* 0x100000001b3
        }
        return Int(bitPattern: UInt(h))
    }
}
