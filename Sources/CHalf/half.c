#include "CHalf.h"
#include "half_bits.h"
#include "lane_sum.h"

#include <string.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

#if defined(__x86_64__)
__attribute__((target("avx,f16c")))
static void f16_to_f32_f16c(const uint16_t *src, float *dst, size_t n) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m128i h = _mm_loadu_si128((const __m128i *)(src + i));
        _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(h));
    }
    for (; i < n; i++) dst[i] = flamingo_half_to_float(src[i]);
}
#endif

void flamingo_f16_to_f32(const uint16_t *src, float *dst, size_t n) {
#if defined(__x86_64__)
    static int has_f16c = -1;
    if (has_f16c < 0) has_f16c = __builtin_cpu_supports("f16c") && __builtin_cpu_supports("avx");
    if (has_f16c) {
        f16_to_f32_f16c(src, dst, n);
        return;
    }
#endif
    for (size_t i = 0; i < n; i++) dst[i] = flamingo_half_to_float(src[i]);
}

void flamingo_bf16_to_f32(const uint16_t *src, float *dst, size_t n) {
    uint32_t *out = (uint32_t *)dst;
    for (size_t i = 0; i < n; i++) out[i] = (uint32_t)src[i] << 16;
}

static float half_dot_scalar(const uint16_t *w, int bf16, const float *x, size_t k) {
    float acc = 0;
    for (size_t j = 0; j < k; j++) {
        float v;
        if (bf16) {
            uint32_t bits = (uint32_t)w[j] << 16;
            memcpy(&v, &bits, 4);
        } else {
            v = flamingo_half_to_float(w[j]);
        }
        acc += v * x[j];
    }
    return acc;
}

#if defined(__x86_64__)
#define hsum8 flamingo_hsum8

// One dot product per F16 or BF16 row (FORMAT: half_dot_scalar's bf16 flag for the tail), four accumulators
// to hide the FMA latency. Written out once per format (a macro, not a helper taking the format) so that
// nothing but loads, converts and FMAs is in the loop.
#define HALF_DOT_AVX2(NAME, LOAD8, FORMAT)                                                            \
    __attribute__((target("avx2,fma,f16c"))) static float NAME(const uint16_t *w, const float *x, size_t k) { \
        __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps(), a2 = _mm256_setzero_ps(),         \
               a3 = _mm256_setzero_ps();                                                             \
        size_t j = 0;                                                                                \
        for (; j + 32 <= k; j += 32) {                                                               \
            a0 = _mm256_fmadd_ps(LOAD8(w + j), _mm256_loadu_ps(x + j), a0);                          \
            a1 = _mm256_fmadd_ps(LOAD8(w + j + 8), _mm256_loadu_ps(x + j + 8), a1);                  \
            a2 = _mm256_fmadd_ps(LOAD8(w + j + 16), _mm256_loadu_ps(x + j + 16), a2);                \
            a3 = _mm256_fmadd_ps(LOAD8(w + j + 24), _mm256_loadu_ps(x + j + 24), a3);                \
        }                                                                                            \
        for (; j + 8 <= k; j += 8) a0 = _mm256_fmadd_ps(LOAD8(w + j), _mm256_loadu_ps(x + j), a0);   \
        return hsum8(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3))) +                  \
               half_dot_scalar(w + j, FORMAT, x + j, k - j);                                        \
    }
#define HALF_DOT4_AVX2(NAME, LOAD8, FORMAT)                                                              \
    __attribute__((target("avx2,fma,f16c"))) static void NAME(const uint16_t *w, size_t k, const float *x, \
                                                              float out[4]) {                       \
        const uint16_t *w0 = w, *w1 = w + k, *w2 = w + 2 * k, *w3 = w + 3 * k;                      \
        __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps(), a2 = _mm256_setzero_ps(),         \
               a3 = _mm256_setzero_ps();                                                             \
        size_t j = 0;                                                                                \
        for (; j + 8 <= k; j += 8) {                                                                 \
            __m256 xv = _mm256_loadu_ps(x + j);                                                      \
            if ((j & 31) == 0) { /* rows 16-19 ahead into L2, one cache line each per 32 values */  \
                _mm_prefetch((const char *)(w0 + 16 * k + j), _MM_HINT_T1);                          \
                _mm_prefetch((const char *)(w1 + 16 * k + j), _MM_HINT_T1);                          \
                _mm_prefetch((const char *)(w2 + 16 * k + j), _MM_HINT_T1);                          \
                _mm_prefetch((const char *)(w3 + 16 * k + j), _MM_HINT_T1);                          \
            }                                                                                        \
            a0 = _mm256_fmadd_ps(LOAD8(w0 + j), xv, a0);                                             \
            a1 = _mm256_fmadd_ps(LOAD8(w1 + j), xv, a1);                                             \
            a2 = _mm256_fmadd_ps(LOAD8(w2 + j), xv, a2);                                             \
            a3 = _mm256_fmadd_ps(LOAD8(w3 + j), xv, a3);                                             \
        }                                                                                            \
        __m256 acc[4] = {a0, a1, a2, a3};                                                            \
        for (int r = 0; r < 4; r++)                                                                  \
            out[r] = hsum8(acc[r]) + half_dot_scalar(w + r * k + j, FORMAT, x + j, k - j);           \
    }
#define LOAD8_F16(p) _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(p)))
#define LOAD8_BF16(p) \
    _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)(p))), 16))
HALF_DOT_AVX2(f16_dot_avx2, LOAD8_F16, 0)
HALF_DOT_AVX2(bf16_dot_avx2, LOAD8_BF16, 1)
HALF_DOT4_AVX2(f16_dot4_avx2, LOAD8_F16, 0)
HALF_DOT4_AVX2(bf16_dot4_avx2, LOAD8_BF16, 1)
#endif

void flamingo_half_gemv(const uint16_t *w, int bf16, size_t k, const float *x, size_t m, float *y, size_t ldy,
                        size_t r0, size_t r1, float beta) {
#if defined(__x86_64__)
    static int has_avx2 = -1;
    if (has_avx2 < 0)
        has_avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c");
#endif
    size_t r = r0;
#if defined(__x86_64__)
    for (; has_avx2 && r + 4 <= r1; r += 4) {
        for (size_t i = 0; i < m; i++) {
            float d[4];
            if (bf16) bf16_dot4_avx2(w + r * k, k, x + i * k, d);
            else f16_dot4_avx2(w + r * k, k, x + i * k, d);
            float *out = y + i * ldy + r;
            for (int q = 0; q < 4; q++) out[q] = beta == 0 ? d[q] : beta * out[q] + d[q];
        }
    }
#endif
    for (; r < r1; r++) {
        const uint16_t *row = w + r * k;
        for (size_t i = 0; i < m; i++) {
            float d;
#if defined(__x86_64__)
            d = !has_avx2 ? half_dot_scalar(row, bf16, x + i * k, k)
                : bf16 ? bf16_dot_avx2(row, x + i * k, k) : f16_dot_avx2(row, x + i * k, k);
#else
            d = half_dot_scalar(row, bf16, x + i * k, k);
#endif
            float *out = y + i * ldy + r;
            *out = beta == 0 ? d : beta * *out + d;
        }
    }
}
