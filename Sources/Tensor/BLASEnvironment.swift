import COpenBLAS
import Foundation

/// OpenBLAS settings that must be in the environment before the library
/// loads (it reads them before `main` runs), so the only way to set them
/// from inside the program is to set them and re-execute once. A user's own
/// values are always respected.
///
/// - OPENBLAS_CORETYPE: Debian's OpenBLAS 0.3.21 does not recognise recent
///   Xeons (Sapphire and Emerald Rapids report as a generic "Intel Xeon
///   Processor") and falls back to its "Prescott" SSE3 kernels: 15 GFLOP/s
///   instead of about 100 with the AVX-512 SkylakeX kernels on the same core
///   (measured on this project's machines).
/// - OPENBLAS_THREAD_TIMEOUT: after each call OpenBLAS's idle workers spin
///   on sched_yield for 2^28 cycles (about 0.1 s) before they sleep. Between
///   BLAS calls the engine runs its own parallel loops on both cores
///   (attention frame by frame, softmax, LayerNorm, GELU) and a spinning
///   worker takes time from them: in the ViT-B/16 benchmark those sections
///   took 1.4-2x as long. At 4 (2^4 cycles) idle workers sleep at once and
///   each call wakes them.
public enum BLASEnvironment {
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

    /// The idle-worker timeout we run OpenBLAS with (a power of two of cycles).
    static let threadTimeout = "4"

    /// The variables to set (name, value) given the environment, the CPU's flags and OpenBLAS's current core.
    static func settings(environment env: [String: String], cpuFlags: Set<String>, current: String) -> [(String, String)] {
        var settings: [(String, String)] = []
        if env["OPENBLAS_CORETYPE"] == nil, let core = recommendedCore(cpuFlags: cpuFlags, current: current) {
            settings.append(("OPENBLAS_CORETYPE", core))
        }
        if env["OPENBLAS_THREAD_TIMEOUT"] == nil { settings.append(("OPENBLAS_THREAD_TIMEOUT", threadTimeout)) }
        return settings
    }

    /// Call first thing in `main`: re-executes the program once with the
    /// settings above when the environment lacks them. Returns normally when
    /// nothing needs to change (or exec fails).
    public static func reexecutingIfNeeded() {
        let env = ProcessInfo.processInfo.environment
        guard env["FLAMINGO_BLAS_REEXEC"] == nil else { return }
        let settings = settings(environment: env, cpuFlags: cpuFlags(), current: currentCore)
        guard !settings.isEmpty else { return }
        for (name, value) in settings { setenv(name, value, 1) }
        setenv("FLAMINGO_BLAS_REEXEC", "1", 1)
        execv("/proc/self/exe", CommandLine.unsafeArgv)
        // exec failed: carry on with OpenBLAS as it is.
    }
}
