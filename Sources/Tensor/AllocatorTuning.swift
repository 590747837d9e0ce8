import COpenBLAS
import Foundation

/// Allocator settings for inference: activations are tens of megabytes and
/// allocated per layer. glibc serves blocks above its mmap threshold with
/// fresh mappings and trims the heap eagerly, so every layer paid page faults
/// to zero new pages (about 14% of the vision encoder's time, measured with
/// perf). Keeping freed memory in the heap removes them.
public enum AllocatorTuning {
    public static func apply() {
        _ = mallopt(M_MMAP_THRESHOLD, 32 << 20)
        _ = mallopt(M_TRIM_THRESHOLD, 1 << 30)
    }
}
