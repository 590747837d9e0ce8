import CHalf

/// Widening stored floats to float32: F32 copies, F16 through F16C
/// (`vcvtph2ps`) when the CPU has it, BF16 as the high half of a float32.
/// Shared by whole-tensor loads and the per-tile widening of weights at rest.
enum HalfPrecision {
    enum DType: String {
        case f32 = "F32", f16 = "F16", bf16 = "BF16"
    }

    /// `count` values of `dtype` at `src` (any alignment) into `dst`.
    static func widen(_ src: UnsafeRawPointer, dtype: DType, count: Int, into dst: UnsafeMutablePointer<Float>) {
        switch dtype {
        case .f32: UnsafeMutableRawPointer(dst).copyMemory(from: src, byteCount: 4 * count)
        case .f16: flamingo_f16_to_f32(src.assumingMemoryBound(to: UInt16.self), dst, count)
        case .bf16: flamingo_bf16_to_f32(src.assumingMemoryBound(to: UInt16.self), dst, count)
        }
    }
}
