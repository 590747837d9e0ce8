import Foundation
import Weights
import XCTest

/// The restricted torch.save reader against files PyTorch wrote
/// (Tests/Fixtures/make_torch_checkpoints.py): every dtype and view comes
/// out equal to PyTorch's own contiguous float32 copy, wrappers and `module.`
/// prefixes are seen through, and a pickle that would run code on
/// `torch.load` runs nothing here.
final class TorchCheckpointTests: XCTestCase {
    static let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/torch")

    func path(_ name: String) -> String { Self.dir.appendingPathComponent(name).path }

    func testEveryDTypeAndViewEqualsPyTorch() throws {
        let checkpoint = try TorchCheckpoint(path: path("state_dict.pt"))
        let expected = try SafetensorsFile(path: path("expected.safetensors"))
        let tensors = try checkpoint.stateDict()
        XCTAssertEqual(Set(tensors.keys), ["f32", "f16", "bf16", "f64", "param", "transposed", "shared_rows",
                                           "shared_column", "scalar", "empty", "ids"])
        XCTAssertEqual(tensors["transposed"]?.shape, [3, 4])
        XCTAssertEqual(tensors["transposed"]?.stride, [1, 3])
        XCTAssertEqual(tensors["shared_rows"]?.storage.key, tensors["shared_column"]?.storage.key)
        XCTAssertEqual(tensors["shared_rows"]?.offset, 10)
        XCTAssertEqual(tensors["scalar"]?.shape, [])
        XCTAssertEqual(tensors["ids"]?.dtype, "I64")
        XCTAssertEqual(tensors["bf16"]?.dtype, "BF16")
        for key in ["f32", "f16", "bf16", "f64", "param", "transposed", "shared_rows", "shared_column", "scalar", "empty"] {
            let t = try XCTUnwrap(tensors[key], key)
            XCTAssertEqual(try checkpoint.floats(t, key: key), try expected.floats("state_dict.pt/\(key)"), key)
            XCTAssertEqual(t.shape, expected.entries["state_dict.pt/\(key)"]?.shape, key)
        }
        XCTAssertThrowsError(try checkpoint.floats(try XCTUnwrap(tensors["ids"]), key: "ids")) { error in
            XCTAssertTrue(error.localizedDescription.contains("'ids' has dtype I64"), error.localizedDescription)
        }
    }

    func testTrainingCheckpointWrapperIsSeenThrough() throws {
        let checkpoint = try TorchCheckpoint(path: path("wrapped.pt"))
        let expected = try SafetensorsFile(path: path("expected.safetensors"))
        let tensors = try checkpoint.stateDict()
        XCTAssertEqual(Set(tensors.keys), ["module.perceiver.latents", "module.lang_encoder.transformer.wte.weight"])
        for (key, t) in tensors { XCTAssertEqual(try checkpoint.floats(t, key: key), try expected.floats("wrapped.pt/\(key)")) }
        XCTAssertEqual(checkpoint.root["epoch"]?.int, 3)
    }

    func testAPickleThatWouldRunCodeRunsNothing() throws {
        let marker = "/tmp/flamingo-pickle-was-executed"
        try? FileManager.default.removeItem(atPath: marker)
        let checkpoint = try TorchCheckpoint(path: path("evil.pt"))
        XCTAssertEqual(Array(try checkpoint.stateDict().keys), ["w"])
        if case let .object(name)? = checkpoint.root["payload"]?.kind {
            XCTAssertEqual(name, "posix.system")
        } else {
            XCTFail("the payload should stay an opaque object")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: marker))
    }

    /// Found by `make fuzz` (docs/FUZZING.md): a ZIP64 end record whose offset is near Int.max made
    /// `offset + 56` overflow and trap; offsets are now compared without sums that can overflow.
    func testAZip64RecordPointingNearIntMaxIsAnErrorNotATrap() {
        XCTAssertThrowsError(try TorchCheckpoint(path: path("zip64-overflow.pt"))) { error in
            XCTAssertTrue(error.localizedDescription.contains("zip64-overflow.pt"), error.localizedDescription)
        }
    }

    func testLegacyAndDamagedFilesAreRefusedWithTheReason() throws {
        XCTAssertThrowsError(try TorchCheckpoint(path: path("legacy.pt"))) { error in
            XCTAssertTrue(error.localizedDescription.contains("legacy.pt: not a readable PyTorch checkpoint: not a zip archive"),
                          error.localizedDescription)
        }
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path("state_dict.pt")))
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("torch-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        // Cut at many places: always a typed error, never a crash.
        for cut in stride(from: 4, to: bytes.count, by: 97) {
            let file = scratch.appendingPathComponent("cut-\(cut).pt")
            try bytes.prefix(cut).write(to: file)
            XCTAssertThrowsError(try TorchCheckpoint(path: file.path).stateDict(), "cut at \(cut)")
        }
        // Flip bytes inside the pickle: an error or a readable dict, never a crash or an out-of-bounds read.
        let checkpoint = try TorchCheckpoint(path: path("state_dict.pt"))
        _ = checkpoint
        for offset in stride(from: 100, to: 900, by: 13) {
            var damaged = bytes
            damaged[offset] ^= 0x5A
            let file = scratch.appendingPathComponent("flip-\(offset).pt")
            try damaged.write(to: file)
            if let c = try? TorchCheckpoint(path: file.path), let tensors = try? c.stateDict() {
                for (key, t) in tensors { _ = try? c.floats(t, key: key) }
            }
        }
    }
}
