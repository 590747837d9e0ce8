import Foundation

/// Pathological videos from a real bug report, made at test time: a short clip
/// encoded with the ffmpeg CLI, then (for some) a few bytes of the container
/// edited in place. Each call writes a fresh file into `directory` (nothing is
/// cached) and returns its path. The ffprobe facts in the doc comments were
/// measured with FFmpeg 5.1 (Debian 12).
enum PathologicalFixtures {
    /// Video codecs for `hugeEditListMediaTime`; H.264 goes in MP4, the others in MOV.
    enum EditListCodec: String, CaseIterable, Sendable {
        case h264, mjpeg, prores
    }

    /// Containers for `startOffset`.
    enum OffsetContainer: String, CaseIterable, Sendable {
        case mkv, mp4
    }

    /// The value written into every non-empty `elst` entry's media_time
    /// (mdhd time scale 12800, so about 167,772 s past the start of the media).
    static let hugeMediaTime: Int64 = 0x7FFF_FFF0
    /// Added to one PES packet's PTS (and DTS) in `tsPTSJump`: 11,790 s at 90 kHz.
    static let ptsJumpTicks: UInt64 = 11_790 * 90_000
    /// DefaultDuration written by `matroskaHugeDefaultDuration`: 1000 s in ns.
    static let hugeDefaultDurationNanoseconds: UInt64 = 1_000_000_000_000

    // MARK: - 1. Edit list whose media_time lies past every sample

    /// 3 s of 160x120 testsrc2 at 25 fps (75 frames), `-use_editlist 1`, encoded as
    /// H.264 (`-bf 2 -g 25`, MP4), MJPEG (MOV) or ProRes proxy (`-profile:v 0`, MOV).
    /// The muxer writes moov/trak/edts/elst (version 0) with one entry: segment_duration 3000
    /// (movie scale 1000), media_time 1024 for H.264 (the B-frame delay) or 0 for
    /// MJPEG/ProRes. Edit: media_time of every non-empty entry is set to
    /// `hugeMediaTime` (0x7FFFFFF0; a version 1 entry gets the same value in its
    /// 64-bit field). Nothing else changes.
    ///
    /// ffprobe then reports: stream time_base 1/12800, nb_frames 75, start_time 0,
    /// stream and format duration 3.0 s, avg/r_frame_rate 25/1 (the header is
    /// untouched), and the mov demuxer logs "drop a frame at curr_cts" for every
    /// sample it keeps. It keeps only the samples from the last keyframe on, all
    /// with AV_PKT_FLAG_DISCARD (flags "_D"/"KD"):
    /// - H.264: 25 packets (the last GOP, samples 50-74), all discard-flagged
    ///   (first KD, then _D), dts 0 for all, pts 1024 once then 2048 x8 and
    ///   512 x16, duration 512; `-show_frames`: 0 frames.
    /// - MJPEG: 1 packet (sample 74), flags KD, pts 0, dts 0, duration 38400 (3 s);
    ///   `-show_frames`: 1 frame (pts 0, pkt_duration 38400). libavcodec 5.1 drops
    ///   discard-flagged frames only for decoders with a decode callback; MJPEG
    ///   uses receive_frame, so avcodec_receive_frame returns this frame, with
    ///   AV_FRAME_FLAG_DISCARD set in `frame->flags`.
    /// - ProRes: 1 packet (sample 74), flags KD, pts 0, duration 38400;
    ///   `-show_frames`: 0 frames.
    ///
    /// A correct reader honouring the edit list sees no visible frame (every packet
    /// is discard-flagged; an MJPEG frame decoded from a discarded packet must not
    /// count: check AV_FRAME_FLAG_DISCARD) and should fail cleanly with "no frames"
    /// rather than hang, crash or sample garbage; it must not take 3.0 s of content
    /// from the header.
    /// (With `-ignore_editlist 1` the file is a normal 75-frame, 3.0 s clip.)
    static func hugeEditListMediaTime(codec: EditListCodec, directory: URL) throws -> String {
        let (encoder, ext): ([String], String) = switch codec {
        case .h264: (["-c:v", "libx264", "-bf", "2", "-g", "25", "-pix_fmt", "yuv420p"], "mp4")
        case .mjpeg: (["-c:v", "mjpeg"], "mov")
        case .prores: (["-c:v", "prores", "-profile:v", "0"], "mov")
        }
        let url = directory.appendingPathComponent("huge-elst-\(codec.rawValue).\(ext)")
        try encode(source: "testsrc2=size=160x120:rate=25:duration=3",
                   encoder + ["-use_editlist", "1", "-f", ext], to: url)
        var bytes = try read(url)
        var patched = 0
        for moov in try ISOBox.children(of: bytes, in: 0..<bytes.count) where moov.type == "moov" {
            for trak in try ISOBox.children(of: bytes, in: moov.body) where trak.type == "trak" {
                for edts in try ISOBox.children(of: bytes, in: trak.body) where edts.type == "edts" {
                    for elst in try ISOBox.children(of: bytes, in: edts.body) where elst.type == "elst" {
                        patched += try setMediaTimes(in: &bytes, elst: elst, to: hugeMediaTime)
                    }
                }
            }
        }
        guard patched > 0 else { throw FixtureError("\(url.path): no non-empty moov/trak/edts/elst entry") }
        try write(bytes, to: url)
        return url.path
    }

    /// Sets media_time of every entry of `elst` that is not an empty edit (-1).
    private static func setMediaTimes(in bytes: inout [UInt8], elst: ISOBox, to value: Int64) throws -> Int {
        let body = elst.body
        guard body.count >= 8 else { throw FixtureError("elst at \(elst.start) too short") }
        let version = bytes[body.lowerBound]
        guard version <= 1 else { throw FixtureError("elst at \(elst.start): version \(version)") }
        let count = Int(readBE(bytes, body.lowerBound + 4, 4))
        let entrySize = version == 1 ? 20 : 12
        guard 8 + count * entrySize <= body.count else { throw FixtureError("elst at \(elst.start): \(count) entries overflow the box") }
        var patched = 0
        for i in 0..<count {
            let entry = body.lowerBound + 8 + i * entrySize
            let width = version == 1 ? 8 : 4
            let mediaTimeOffset = entry + width
            let raw = readBE(bytes, mediaTimeOffset, width)
            let mediaTime = version == 1 ? Int64(bitPattern: raw) : Int64(Int32(truncatingIfNeeded: raw))
            if mediaTime == -1 { continue }
            writeBE(&bytes, mediaTimeOffset, width, UInt64(value))
            patched += 1
        }
        return patched
    }

    // MARK: - 2. One MPEG-TS PES packet with a PTS 11,790 s later

    /// 3 s of 160x120 testsrc2 at 25 fps as MPEG-TS (libx264 `-bf 0 -g 25`, so decode
    /// order is presentation order and the muxer writes PTS only, PTS_DTS_flags 10).
    /// Timestamps start at 1.4 s (mpegts adds its 1.4 s muxing delay): frame k has
    /// pts 126000 + 3600 k (time_base 1/90000). Edit: in the PES header of the 38th
    /// video PES packet (stream_id 0xE0, frame index 37, a P-frame, pts 259200 =
    /// 2.88 s) the 33-bit PTS gets `ptsJumpTicks` (11,790 s) added, marker bits and
    /// the '0010'/'0011' prefix kept; the DTS too if the header carries one.
    ///
    /// ffprobe then reports: time_base 1/90000, start_time 1.4, format and stream
    /// duration 3.0 (estimated from the first and last packets), 75 packets and 75
    /// frames; packet/frame 37 has pts = dts = 1061359200 (11,792.88 s), all others
    /// are regular (36 at 255600, 38 at 262800). The demuxer warns "DTS
    /// discontinuity in stream 0" and "DTS 262800 < 1061359200 out of order".
    ///
    /// Raw pts span: 1.4 s to 11,792.92 s, i.e. 11,791.52 s (under the 14,400 s
    /// limit). A correct reader sees 75 visible frames and 3.0 s of content: one
    /// frame with an outlying timestamp must neither stretch the timeline to
    /// ~11,791 s nor make the frames after it look like they go back in time.
    static func tsPTSJump(directory: URL) throws -> String {
        let url = directory.appendingPathComponent("pts-jump.ts")
        try encode(source: "testsrc2=size=160x120:rate=25:duration=3",
                   ["-c:v", "libx264", "-bf", "0", "-g", "25", "-pix_fmt", "yuv420p", "-f", "mpegts"], to: url)
        var bytes = try read(url)
        let target = 37
        var seen = 0
        var offset = 0
        while offset + 188 <= bytes.count {
            defer { offset += 188 }
            guard bytes[offset] == 0x47 else { throw FixtureError("\(url.path): lost TS sync at \(offset)") }
            let unitStart = bytes[offset + 1] & 0x40 != 0
            let adaptation = (bytes[offset + 3] >> 4) & 3
            guard unitStart, adaptation & 1 != 0 else { continue }
            var payload = offset + 4
            if adaptation & 2 != 0 { payload += 1 + Int(bytes[offset + 4]) }
            let end = offset + 188
            guard payload + 9 <= end, bytes[payload] == 0, bytes[payload + 1] == 0, bytes[payload + 2] == 1,
                  bytes[payload + 3] & 0xF0 == 0xE0 else { continue }
            if seen < target { seen += 1; continue }
            guard bytes[payload + 6] & 0xC0 == 0x80 else { throw FixtureError("\(url.path): not an MPEG-2 PES header at \(payload)") }
            let flags = bytes[payload + 7] >> 6
            guard flags & 2 != 0 else { throw FixtureError("\(url.path): video PES at \(payload) has no PTS") }
            let fields = flags == 3 ? 2 : 1
            guard payload + 9 + 5 * fields <= end, Int(bytes[payload + 8]) >= 5 * fields else {
                throw FixtureError("\(url.path): PES header at \(payload) truncated")
            }
            for field in 0..<fields {
                let at = payload + 9 + 5 * field
                let ts = readPESTimestamp(bytes, at)
                writePESTimestamp(&bytes, at, (ts + ptsJumpTicks) & ((1 << 33) - 1))
            }
            try write(bytes, to: url)
            return url.path
        }
        throw FixtureError("\(url.path): fewer than \(target + 1) video PES packets")
    }

    private static func readPESTimestamp(_ b: [UInt8], _ at: Int) -> UInt64 {
        (UInt64(b[at] >> 1) & 7) << 30 | UInt64(b[at + 1]) << 22 | UInt64(b[at + 2] >> 1) << 15
            | UInt64(b[at + 3]) << 7 | UInt64(b[at + 4] >> 1)
    }

    /// Keeps the 4-bit prefix of the first byte; sets the three marker bits.
    private static func writePESTimestamp(_ b: inout [UInt8], _ at: Int, _ v: UInt64) {
        b[at] = (b[at] & 0xF0) | UInt8((v >> 29) & 0x0E) | 1
        b[at + 1] = UInt8((v >> 22) & 0xFF)
        b[at + 2] = UInt8((v >> 14) & 0xFE) | 1
        b[at + 3] = UInt8((v >> 7) & 0xFF)
        b[at + 4] = UInt8((v << 1) & 0xFE) | 1
    }

    // MARK: - 3. Matroska DefaultDuration of 1000 s

    /// 3 s of 160x120 testsrc2 at 25 fps as Matroska (libx264 `-bf 0 -g 25`,
    /// `-write_crc32 0` so no CRC-32 element guards the Tracks). The muxer writes
    /// the video TrackEntry's DefaultDuration (0x23E383) as 40,000,000 ns in 4 bytes,
    /// which cannot hold 1000 s. Edit, inside the TrackEntry only (its size and every
    /// later offset unchanged): DefaultDuration is re-encoded with 8 data bytes as
    /// `hugeDefaultDurationNanoseconds` (1000 s), the Language element ("und", 7
    /// bytes; Matroska's default then applies) is dropped to make room, and the 3
    /// spare bytes become a Void element (EC 81 00).
    ///
    /// ffprobe then reports: time_base 1/1000, avg_frame_rate 1/1000 (from
    /// DefaultDuration), r_frame_rate 25/1 (from the timestamps), format duration
    /// 3.0 (Segment Info), stream duration 3.0 (the DURATION tag), start_time N/A
    /// (stream and format), language tag "eng"; 75 packets with pts 0, 40, ..., 2960
    /// and duration 1000000 (1000 s) each, dts N/A on the first 3 packets and equal
    /// to pts after; 75 frames, best_effort_timestamp 0..2960, pkt_duration 1000000;
    /// no discard flags.
    ///
    /// A reader that ends the clip at last pts + packet duration gets 1002.96 s. A
    /// correct reader sees 75 visible frames over 3.0 s (frame step 40 ms from the
    /// timestamps).
    static func matroskaHugeDefaultDuration(directory: URL) throws -> String {
        let url = directory.appendingPathComponent("huge-default-duration.mkv")
        try encode(source: "testsrc2=size=160x120:rate=25:duration=3",
                   ["-c:v", "libx264", "-bf", "0", "-g", "25", "-pix_fmt", "yuv420p",
                    "-write_crc32", "0", "-f", "matroska"], to: url)
        var bytes = try read(url)
        let top = try EBML.children(of: bytes, in: 0..<bytes.count)
        guard let segment = top.first(where: { $0.id == EBML.segment }) else { throw FixtureError("\(url.path): no Segment") }
        let level1 = try EBML.children(of: bytes, in: segment.body)
        guard let tracks = level1.first(where: { $0.id == EBML.tracks }) else { throw FixtureError("\(url.path): no Tracks") }
        let entries = try EBML.children(of: bytes, in: tracks.body)
        guard !entries.contains(where: { $0.id == EBML.crc32 }) else {
            throw FixtureError("\(url.path): Tracks carries a CRC-32 element")
        }
        for entry in entries where entry.id == EBML.trackEntry {
            let fields = try EBML.children(of: bytes, in: entry.body)
            guard let type = fields.first(where: { $0.id == EBML.trackType }),
                  readBE(bytes, type.body.lowerBound, type.body.count) == 1 else { continue }
            guard fields.contains(where: { $0.id == EBML.defaultDuration }) else {
                throw FixtureError("\(url.path): video TrackEntry has no DefaultDuration")
            }
            var body: [UInt8] = []
            for f in fields where f.id != EBML.language {
                if f.id == EBML.defaultDuration {
                    body += [0x23, 0xE3, 0x83, 0x88]
                    for shift in stride(from: 56, through: 0, by: -8) {
                        body.append(UInt8((hugeDefaultDurationNanoseconds >> UInt64(shift)) & 0xFF))
                    }
                } else {
                    body += bytes[f.start..<f.body.upperBound]
                }
            }
            let spare = entry.body.count - body.count
            guard spare == 0 || (2...128).contains(spare) else {
                throw FixtureError("\(url.path): cannot fit an 8-byte DefaultDuration in the TrackEntry (\(spare) bytes spare)")
            }
            if spare > 0 { body += [EBML.void, 0x80 | UInt8(spare - 2)] + Array(repeating: 0, count: spare - 2) }
            bytes.replaceSubrange(entry.body, with: body)
            try write(bytes, to: url)
            return url.path
        }
        throw FixtureError("\(url.path): no video TrackEntry")
    }

    // MARK: - 4. A valid file with a 3 h 59 min gap

    /// Valid Matroska, no byte edits: 75 frames of 160x120 testsrc2 (libx264 `-bf 2
    /// -g 25`) with `settb=1/1000,setpts=N*40+if(gte(N,38),14340000,0)` and
    /// `-fps_mode vfr`: frames 0-37 at 0..1.48 s, frames 38-74 at
    /// 14,341.52..14,342.96 s (a 14,340.04 s step between frames 37 and 38).
    /// The length comes from the source's `duration=3` (an output `-t 3` would cut
    /// everything after the gap).
    ///
    /// ffprobe: time_base 1/1000, start_time 0, format duration 14,343.0 s, DURATION
    /// tag 03:59:03, avg/r_frame_rate 25/1, 75 packets (duration 40) and 75 frames,
    /// best_effort_timestamp 0..1480 then 14341520..14342960; no discard flags
    /// (dts N/A on the first 2 packets, as usual for Matroska with B-frames).
    ///
    /// A correct reader sees 75 visible frames and a content span of 14,343.0 s,
    /// under the 14,400 s limit, so it must accept the file.
    static func fourHourGap(directory: URL) throws -> String {
        let url = directory.appendingPathComponent("four-hour-gap.mkv")
        try encode(source: "testsrc2=size=160x120:rate=25:duration=3",
                   ["-vf", "settb=1/1000,setpts=N*40+if(gte(N\\,38)\\,14340000\\,0)", "-fps_mode", "vfr",
                    "-c:v", "libx264", "-bf", "2", "-g", "25", "-pix_fmt", "yuv420p", "-f", "matroska"], to: url)
        return url.path
    }

    // MARK: - 5. Timestamps that start far from zero

    /// Valid file, no byte edits: 3 s of 160x120 testsrc2 at 25 fps (75 frames,
    /// libx264 `-bf 2 -g 25`) with `-output_ts_offset <seconds>`; tried with 80,000
    /// and 1,000,000 s.
    ///
    /// - MKV: time_base 1/1000, start_time = seconds, format duration seconds + 3
    ///   (80,003 / 1,000,003; the container declares the offset plus the content),
    ///   stream duration N/A, DURATION tag 22:13:23 / 277:46:43; first packet pts = seconds x 1000 (80000000 /
    ///   1000000000, dts N/A on the first 2), frames seconds x 1000 .. + 2960;
    ///   75 packets (duration 40), 75 frames.
    /// - MP4: the muxer writes an empty edit (elst entry 0: segment_duration =
    ///   seconds x 1000 in the movie scale, media_time -1) before the real one
    ///   (3000, media_time 1024). time_base 1/12800, start_time = seconds, stream
    ///   duration 3.0, nb_frames 75, format duration seconds + 3; first packet
    ///   pts = seconds x 12800 (1024000000 / 12800000000), dts 1024 ticks lower;
    ///   frames seconds x 12800 .. + 37888; 75 packets (duration 512), 75 frames.
    ///
    /// A correct reader sees 75 visible frames and 3.0 s of content starting at
    /// `seconds`; a reader that trusts the container's duration refuses it ("lasts
    /// 1000003.0 s, over the limit of 14400.0 s").
    static func startOffset(seconds: Int, container: OffsetContainer, directory: URL) throws -> String {
        let url = directory.appendingPathComponent("start-\(seconds).\(container.rawValue)")
        try encode(source: "testsrc2=size=160x120:rate=25:duration=3",
                   ["-c:v", "libx264", "-bf", "2", "-g", "25", "-pix_fmt", "yuv420p",
                    "-output_ts_offset", String(seconds),
                    "-f", container == .mkv ? "matroska" : "mp4"], to: url)
        return url.path
    }

    // MARK: - Helpers

    private static func encode(source: String, _ output: [String], to url: URL) throws {
        try Tool.run("ffmpeg", ["-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i", source] + output + [url.path])
    }

    private static func read(_ url: URL) throws -> [UInt8] { [UInt8](try Data(contentsOf: url)) }

    private static func write(_ bytes: [UInt8], to url: URL) throws { try Data(bytes).write(to: url) }

    static func readBE(_ b: [UInt8], _ at: Int, _ width: Int) -> UInt64 {
        var v: UInt64 = 0
        for i in 0..<width { v = v << 8 | UInt64(b[at + i]) }
        return v
    }

    static func writeBE(_ b: inout [UInt8], _ at: Int, _ width: Int, _ value: UInt64) {
        for i in 0..<width { b[at + i] = UInt8((value >> UInt64(8 * (width - 1 - i))) & 0xFF) }
    }

    /// One ISO-BMFF box: `start` is its first header byte, `body` its payload.
    struct ISOBox {
        let type: String
        let start: Int
        let body: Range<Int>

        /// The boxes laid end to end in `range` (size 0 = to the end, size 1 = 64-bit size).
        static func children(of b: [UInt8], in range: Range<Int>) throws -> [ISOBox] {
            var boxes: [ISOBox] = []
            var at = range.lowerBound
            while at + 8 <= range.upperBound {
                var size = Int(readBE(b, at, 4))
                var header = 8
                if size == 1 {
                    guard at + 16 <= range.upperBound else { throw FixtureError("truncated box header at \(at)") }
                    guard let large = Int(exactly: readBE(b, at + 8, 8)) else { throw FixtureError("bad box size at \(at)") }
                    size = large
                    header = 16
                } else if size == 0 {
                    size = range.upperBound - at
                }
                guard size >= header, at + size <= range.upperBound else { throw FixtureError("bad box size \(size) at \(at)") }
                let type = String(decoding: b[at + 4..<at + 8], as: UTF8.self)
                boxes.append(ISOBox(type: type, start: at, body: at + header..<at + size))
                at += size
            }
            return boxes
        }
    }

    /// Minimal EBML (Matroska) element reader.
    struct EBML {
        static let segment: UInt64 = 0x1853_8067, tracks: UInt64 = 0x1654_AE6B, trackEntry: UInt64 = 0xAE
        static let trackType: UInt64 = 0x83, defaultDuration: UInt64 = 0x23_E383, language: UInt64 = 0x22_B59C
        static let crc32: UInt64 = 0xBF, void: UInt8 = 0xEC

        let id: UInt64
        let start: Int
        let body: Range<Int>

        /// A variable-length integer at `at`: its value (marker kept for IDs) and length.
        private static func vint(_ b: [UInt8], _ at: Int, end: Int,
                                 keepMarker: Bool) throws -> (value: UInt64, length: Int, allOnes: Bool) {
            guard at < end, b[at] != 0 else { throw FixtureError("bad EBML vint at \(at)") }
            let length = b[at].leadingZeroBitCount + 1
            guard at + length <= end else { throw FixtureError("truncated EBML vint at \(at)") }
            var value = keepMarker ? UInt64(b[at]) : UInt64(b[at] & (0xFF >> length))
            for i in 1..<length { value = value << 8 | UInt64(b[at + i]) }
            return (value, length, value == (UInt64(1) << (7 * length)) - 1)
        }

        /// The elements laid end to end in `range`; an unknown size runs to the end of `range`.
        static func children(of b: [UInt8], in range: Range<Int>) throws -> [EBML] {
            var elements: [EBML] = []
            var at = range.lowerBound
            while at < range.upperBound {
                let id = try vint(b, at, end: range.upperBound, keepMarker: true)
                let size = try vint(b, at + id.length, end: range.upperBound, keepMarker: false)
                let bodyStart = at + id.length + size.length
                guard size.allOnes || size.value <= UInt64(range.upperBound - bodyStart) else {
                    throw FixtureError("EBML element 0x\(String(id.value, radix: 16)) at \(at) overruns its parent")
                }
                let bodyEnd = size.allOnes ? range.upperBound : bodyStart + Int(size.value)
                elements.append(EBML(id: id.value, start: at, body: bodyStart..<bodyEnd))
                at = bodyEnd
            }
            return elements
        }
    }
}
