/// What a sampling run did, besides the frames themselves.
public struct SamplingReport: Sendable, Codable, Equatable {
    public var probe: VideoProbe
    /// Problems that did not stop the read (truncation, undecodable packets).
    public var warnings: [String]
    public var statistics: Statistics

    public struct Statistics: Sendable, Codable, Equatable {
        /// Video packets in the file (first pass).
        public var packets: Int
        /// Packets handed to the decoder.
        public var packetsSent: Int
        /// Frames the decoder produced.
        public var framesDecoded: Int
        /// Packets or frames the decoder rejected.
        public var decodeErrors: Int
        /// Runs that started decoding afresh at a keyframe (1 + forward seeks).
        public var decodeRuns: Int
        public var decoderThreads: Int
        /// Whether packets were chosen from timestamps before decoding.
        public var planned: Bool

        enum CodingKeys: String, CodingKey {
            case packets
            case packetsSent = "packets_sent"
            case framesDecoded = "frames_decoded"
            case decodeErrors = "decode_errors"
            case decodeRuns = "decode_runs"
            case decoderThreads = "decoder_threads"
            case planned
        }
    }
}
