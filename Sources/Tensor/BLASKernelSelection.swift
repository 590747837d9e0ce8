import COpenBLAS
import Foundation

/// Debian's OpenBLAS 0.3.21 does not recognise recent Xeons (Sapphire Rapids
/// reports as a generic "Intel Xeon Processor") and falls back to its
/// "Prescott" SSE3 kernels: 15 GFLOP/s instead of about 100 with the AVX-512
/// SkylakeX kernels on the same core (measured on this project's machines).
/// OpenBLAS picks its kernels when the library loads, before `main` runs, so
/// the only fix from inside the program is to set OPENBLAS_CORETYPE and
/// re-execute once. A user's own OPENBLAS_CORETYPE is always respected.
public enum BLASKernelSelection {
    /// Core names OpenBLAS uses when it does not know the CPU.
    static let genericCores: Set<String> = ["Prescott", "Core2", "Penryn", "Dunnington", "Nehalem", "Katmai", "Coppermine", "Northwood", "Banias"]

    /// The kernel family OpenBLAS runs now (for example "SkylakeX").
    public static var currentCore: String {
        guard let name = openblas_get_corename() else { return "unknown" }
        return String(cString: name)
    }

    /// The core type to force, if OpenBLAS fell back to generic kernels on a CPU
    /// with AVX-512 (SkylakeX kernels) or AVX2+FMA (Haswell kernels).
    public static func recommendedCore(cpuFlags: Set<String>, current: String) -> String? {
        guard genericCores.contains(current) else { return nil }
        if ["avx512f", "avx512dq", "avx512bw", "avx512vl", "avx512cd"].allSatisfy(cpuFlags.contains) { return "SkylakeX" }
        if ["avx2", "fma"].allSatisfy(cpuFlags.contains) { return "Haswell" }
        return nil
    }

    static func cpuFlags() -> Set<String> {
        guard let info = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
              let line = info.split(separator: "\n").first(where: { $0.hasPrefix("flags") }),
              let colon = line.firstIndex(of: ":") else { return [] }
        return Set(line[line.index(after: colon)...].split(separator: " ").map(String.init))
    }

    /// Call first thing in `main`: re-executes the program with
    /// OPENBLAS_CORETYPE set when that makes OpenBLAS use the right kernels.
    /// Returns normally when nothing needs to change (or exec fails).
    public static func reexecutingIfNeeded() {
        let env = ProcessInfo.processInfo.environment
        guard env["OPENBLAS_CORETYPE"] == nil, env["FLAMINGO_BLAS_REEXEC"] == nil,
              let core = recommendedCore(cpuFlags: cpuFlags(), current: currentCore) else { return }
        setenv("OPENBLAS_CORETYPE", core, 1)
        setenv("FLAMINGO_BLAS_REEXEC", "1", 1)
        execv("/proc/self/exe", CommandLine.unsafeArgv)
        // exec failed: carry on with the generic kernels.
    }
}

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
