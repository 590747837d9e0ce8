#ifndef FLAMINGO_CINT8MATMUL_H
#define FLAMINGO_CINT8MATMUL_H

#include <stddef.h>
#include <stdint.h>

/// Products of many input rows (prompts, frames) with int8 weights at rest, through oneDNN's matmul
/// primitive (u8/s8 x s8 -> s32 on AVX512-VNNI or AVX-VNNI where the CPU has them, oneDNN's own
/// AVX-512/AVX2 kernels otherwise). docs/QUANTIZATION.md describes the scheme and the measurements.
///
/// The weights W (n, k) row-major are int8 with one float scale per row (W[r, j] = ws[r] * q[r, j]).
/// A product quantizes the input rows on the fly, one symmetric scale per row (per token):
/// xs[i] = max|x[i, :]| / 127, xq = round-half-even(x / xs[i]) in [-127, 127]
/// (flamingo_i8_quantize_activations); oneDNN sums the integer products exactly in int32
/// (flamingo_i8_matmul_run_s32); the result is rescaled, y[i, r] = beta * y[i, r] + xs[i] * ws[r] * s32[i, r]
/// (flamingo_i8_rescale_rows). The caller runs the three steps (Sources/Weights/Int8Matmul.swift),
/// spreading the first and last over its cores.
typedef struct flamingo_i8_matmul flamingo_i8_matmul;

/// A matmul over the int8 weights `w` (n, k), which must outlive it. With `pack` != 0 the weights are
/// reordered once into the blocked layout oneDNN prefers (a copy of n * k bytes it owns); otherwise its
/// primitives read `w` in place. NULL on failure, with the reason in `error` (at most `error_size` bytes).
flamingo_i8_matmul *flamingo_i8_matmul_create(const int8_t *w, size_t n, size_t k, int pack, char *error,
                                              size_t error_size);

void flamingo_i8_matmul_destroy(flamingo_i8_matmul *matmul);

/// Whether the weights were reordered (bytes owned by the matmul).
int flamingo_i8_matmul_is_packed(const flamingo_i8_matmul *matmul);

/// The integer product: s32[i * n + r] = sum_j xq[i * k + j] * q[r, j] for the m rows of xq ((m, k)
/// row-major); `threads` > 0 runs oneDNN with that many threads (1 inside loops that already spread over
/// the cores). Returns 0, or -1 with the reason in `error` (nothing written).
int flamingo_i8_matmul_run_s32(flamingo_i8_matmul *matmul, const int8_t *xq, size_t m, int32_t *s32, int threads,
                               char *error, size_t error_size);

/// The per-row input quantization: for each of m rows of k values,
/// scales[i] = max|x[i, :]| / 127 and q = round-half-even(x / scales[i]) clamped to [-127, 127]
/// (an all-zero row: scale 0, q 0).
void flamingo_i8_quantize_activations(const float *x, size_t m, size_t k, int8_t *q, float *scales);

/// y[i * ldy + r] = beta * y[i * ldy + r] + xs[i] * ws[r] * s32[i * n + r] for m rows of n values (beta 0:
/// y is not read).
void flamingo_i8_rescale_rows(const int32_t *s32, size_t m, size_t n, const float *xs, const float *ws, float beta,
                              float *y, size_t ldy);

/// The calling thread's scratch buffer `index` (0, 1 or 2), at least `size` bytes, 64-byte aligned, kept
/// for the thread's next calls (grow-only, freed when the thread exits); NULL when out of memory.
void *flamingo_i8_matmul_scratch(int index, size_t size);

/// The implementation oneDNN's int8 matmul runs with on this CPU (for example "brg:avx512_core_vnni"),
/// or the reason there is none, into `text` (at most `size` bytes).
void flamingo_i8_matmul_isa(char *text, size_t size);

#endif
