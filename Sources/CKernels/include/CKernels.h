#ifndef FLAMINGO_CKERNELS_H
#define FLAMINGO_CKERNELS_H

#include <stddef.h>

// Element-wise and row-wise float32 kernels of the encoder and decoder, vectorised for the widest
// instruction set the CPU has (AVX-512F: 16 lanes, AVX2+FMA: 8, baseline SSE2/NEON: 4), chosen once at
// run time. exp is Cephes' expf range reduction and degree-5 polynomial (relative error about 2e-7).

/// y[i] = exp(x[i]) for n values (exactly 0 below -87.3, as expf underflows); x and y may alias.
void flamingo_exp(const float *x, float *y, size_t n);

/// QuickGELU x * sigmoid(1.702 x) (OpenAI CLIP) in place, optionally adding bias[i % columns] first
/// (bias may be NULL; columns is ignored then).
void flamingo_quick_gelu(float *x, size_t n, const float *bias, size_t columns);

/// GELU with erf (PyTorch nn.GELU(), approximate='none') in place: 0.5 x (1 + erf(x / sqrt 2)), erf by a
/// rational approximation (absolute error below 4e-7).
void flamingo_gelu(float *x, size_t n);

/// Softmax of each of `rows` rows of n values (row r starts at x + r * ld), in place, max-subtracted.
/// A row whose entries are all -inf becomes uniform (PyTorch's masked_fill(-max) + softmax).
void flamingo_softmax_rows(float *x, size_t rows, size_t n, size_t ld);

/// LayerNorm of each row of src (rows, n) into dst (which may equal src):
/// (x - mean) / sqrt(var + eps) * weight [+ bias], bias may be NULL. Biased variance, as PyTorch.
void flamingo_layer_norm_rows(const float *src, float *dst, size_t rows, size_t n, const float *weight,
                              const float *bias, float eps);

/// One query against a short cache (decoding): out[j] = scale * dot(q, k + j * ldk) over d values, j < rows.
void flamingo_dot_rows(const float *q, const float *k, size_t ldk, size_t rows, size_t d, float scale, float *out);

/// out[t] = sum_j p[j] * v[j * ldv + t] for t < d, j < rows (one query's attention output).
void flamingo_weighted_rows_sum(const float *p, const float *v, size_t ldv, size_t rows, size_t d, float *out);

/// Which implementation runs here: "avx512", "avx2" or "baseline" (for benchmark reports).
const char *flamingo_vector_kernels_isa(void);

/// Makes the kernels use `isa` ("avx512", "avx2" or "baseline") from now on, if this CPU has it (returns 1;
/// else 0 and nothing changes). For tests that cover every implementation; not thread-safe.
int flamingo_vector_kernels_select(const char *isa);

#endif
