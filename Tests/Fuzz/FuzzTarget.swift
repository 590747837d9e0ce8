import Foundation
import Pipeline
import Tokenizer
import VideoIO
import Weights

/// libFuzzer entry points for the parsers of untrusted input (docs/FUZZING.md): the video reader
/// (through the same file-descriptor AVIO path as the product, the input written to a file on
/// /dev/shm), the torch.save reader (zip + restricted pickle), the safetensors header parser, the
/// tokenizer.json loader and the pipeline YAML loader. One binary; FLAMINGO_FUZZ_TARGET picks the
/// parser. Built only with FLAMINGO_FUZZ=1 and `-sanitize=fuzzer,address` (`make fuzz`).
/// Every input must end in a value or a typed error: a crash, a leak-free hang past libFuzzer's
/// -timeout or an AddressSanitizer report is a finding.
enum FuzzTarget: String, CaseIterable {
    case reader, torch, safetensors, tokenizer, pipeline

    nonisolated(unsafe) static var selected: FuzzTarget = .reader
    /// The per-process scratch file the file-based parsers read.
    static let scratch = "/dev/shm/flamingo-fuzz-\(getpid())"

    func run(_ data: Data) {
        switch self {
        case .reader:
            guard write(data) else { return }
            var limits = VideoReaderLimits()
            limits.deadlineSeconds = 5
            limits.maxDimension = 4096
            limits.maxPixels = 4096 * 2304
            limits.maxDurationSeconds = 600
            limits.decoderThreads = 1
            _ = try? VideoReader(path: Self.scratch, limits: limits).sample(SamplingOptions(fps: 1, maxFrames: 4, size: 32)) { _, _ in }
        case .torch:
            guard write(data) else { return }
            _ = try? TorchCheckpoint(path: Self.scratch)
        case .safetensors:
            guard write(data) else { return }
            _ = try? SafetensorsFile(path: Self.scratch)
        case .tokenizer:
            guard let tokenizer = try? BPETokenizer(data: data) else { return }
            _ = tokenizer.encode("a caption, with <image> and <|endofchunk|> tokens")
        case .pipeline:
            _ = try? PipelineLoader.parse(String(decoding: data, as: UTF8.self), file: "fuzz.yaml")
        }
    }

    private func write(_ data: Data) -> Bool {
        FileManager.default.createFile(atPath: Self.scratch, contents: data)
    }
}

@_cdecl("LLVMFuzzerInitialize")
public func fuzzerInitialize(_ argc: UnsafeMutablePointer<Int32>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>) -> Int32 {
    let name = ProcessInfo.processInfo.environment["FLAMINGO_FUZZ_TARGET"] ?? "reader"
    guard let target = FuzzTarget(rawValue: name) else {
        FileHandle.standardError.write(Data("FLAMINGO_FUZZ_TARGET must be one of \(FuzzTarget.allCases.map(\.rawValue))\n".utf8))
        exit(2)
    }
    FuzzTarget.selected = target
    atexit { unlink(FuzzTarget.scratch) }
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzerTestOneInput(_ bytes: UnsafePointer<UInt8>, _ count: Int) -> Int32 {
    FuzzTarget.selected.run(Data(bytes: bytes, count: count))
    return 0
}

/// libFuzzer's driver (its runtime's own `main` is not used: SwiftPM names an executable's entry
/// point after the module, `flamingo_fuzz_main`).
@_silgen_name("LLVMFuzzerRunDriver")
func runFuzzerDriver(_ argc: UnsafeMutablePointer<Int32>,
                     _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
                     _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32) -> Int32

@_cdecl("flamingo_fuzz_main")
public func fuzzMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    var count = argc
    var arguments = argv
    return runFuzzerDriver(&count, &arguments) { bytes, size in
        FuzzTarget.selected.run(bytes.map { Data(bytes: $0, count: size) } ?? Data())
        return 0
    }
}
