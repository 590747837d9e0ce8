import CFFmpeg

/// The demux -> decode loop shared by every decoding pass: reads the chosen
/// stream's packets in decode order, asks `action` what to do with each,
/// drains and flushes the decoder before a skipped stretch (a forward seek),
/// and hands every decoded frame to `onFrame` with the number (decode order)
/// of the last packet sent before it came out; `onDrained` hears each time
/// the decoder has given out every frame of the packets sent so far.
enum PacketDecodeLoop {
    static func run(
        demuxer: Demuxer, streamIndex: Int32, decoder: VideoDecoder, limits: VideoReaderLimits,
        lastPacket: Int, stats: inout SamplingReport.Statistics,
        action: (Int) -> SamplingPlan.Action, isDone: () -> Bool,
        onFrame: (FFFrame, _ lastPacketSent: Int) throws(VideoIOError) -> Void, onDrained: () -> Void = {}
    ) throws(VideoIOError) {
        let path = demuxer.path
        let deadline = demuxer.deadline
        let packet = try FFPacket(path: path)
        let frame = try FFFrame(path: path)
        var packetNumber = 0
        var lastSent = 0
        var sentSinceFlush = false

        func receiveAll() throws(VideoIOError) {
            while true {
                let ret = decoder.receive(into: frame.pointer)
                if ret == FFmpegError.again || ret == FFmpegError.eof { return }
                if ret < 0 {
                    stats.decodeErrors += 1
                    if stats.decodeErrors > 16 + stats.packetsSent { return }
                    continue
                }
                stats.framesDecoded += 1
                if stats.framesDecoded > limits.maxPackets { throw .tooManyPackets(path: path, limit: limits.maxPackets) }
                try onFrame(frame, lastSent)
                frame.unref()
            }
        }
        func drain() throws(VideoIOError) {
            _ = decoder.send(nil)
            try receiveAll()
            decoder.flush()
            sentSinceFlush = false
            onDrained()
        }

        while !isDone() && packetNumber <= lastPacket {
            if deadline.isExpired { throw .timedOut(path: path, seconds: deadline.seconds) }
            let ret = demuxer.read(into: packet.pointer)
            if ret == FFmpegError.eof { break }
            if ret == FFmpegError.exit { throw .timedOut(path: path, seconds: deadline.seconds) }
            if ret < 0 { break }  // Truncation: the first pass reports it.
            defer { packet.unref() }
            guard packet.pointer.pointee.stream_index == streamIndex else { continue }
            let todo = action(packetNumber)
            packetNumber += 1
            if todo == .skip {
                if sentSinceFlush { try drain() }
                continue
            }
            if !sentSinceFlush { stats.decodeRuns += 1 }
            decoder.skipNonReferenceFrames(todo == .referenceOnly)
            while true {
                let sent = decoder.send(packet.pointer)
                if sent == FFmpegError.again {
                    try receiveAll()
                    continue
                }
                if sent < 0 && sent != FFmpegError.eof { stats.decodeErrors += 1 }
                break
            }
            stats.packetsSent += 1
            lastSent = packetNumber - 1
            sentSinceFlush = true
            try receiveAll()
        }
        if sentSinceFlush { try drain() }
    }
}
