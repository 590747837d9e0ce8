"""Import this before numpy/torch: picks OpenBLAS kernels that match the CPU.

On these VMs the CPU reports a generic model name and OpenBLAS 0.3.21
(DYNAMIC_ARCH) falls back to its 'Prescott' (SSE3) kernels: sgemm runs at
~33 GFLOP/s instead of ~180 GFLOP/s with the SkylakeX (AVX-512) kernels.
torch (Debian, BLAS_INFO=generic) and numpy both go through that OpenBLAS.
An explicit OPENBLAS_CORETYPE in the environment is left alone.
"""

import os


def _flags() -> set:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def configure() -> str:
    if "OPENBLAS_CORETYPE" not in os.environ:
        fl = _flags()
        if {"avx512f", "avx512bw", "avx512vl", "avx512dq"} <= fl:
            os.environ["OPENBLAS_CORETYPE"] = "SkylakeX"
        elif {"avx2", "fma"} <= fl:
            os.environ["OPENBLAS_CORETYPE"] = "Haswell"
    return os.environ.get("OPENBLAS_CORETYPE", "")


CORETYPE = configure()
