#include "CHalf.h"
#include "lane_sum.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

// Int8 weights at rest: W[r, j] = scale[r] * q[r, j], q in [-127, 127] (symmetric, one scale per
// output row; docs/QUANTIZATION.md). The products below read each weight byte once and widen it to
// float in registers, so a decoding step streams a quarter of the float32 bytes.

static float i8_dot_scalar(const int8_t *w, const float *x, size_t k) {
    float acc = 0;
    for (size_t j = 0; j < k; j++) acc += (float)w[j] * x[j];
    return acc;
}

#if defined(__x86_64__)
// Eight int8 values widened to float32.
#define LOAD8_I8(p) _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)(p))))

// Four rows at once against one input row, with prefetch of the next four rows (as the F16 kernel).
__attribute__((target("avx2,fma"))) static void i8_dot4_avx2(const int8_t *w, size_t k, const float *x, float out[4]) {
    const int8_t *w0 = w, *w1 = w + k, *w2 = w + 2 * k, *w3 = w + 3 * k;
    __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps(), a2 = _mm256_setzero_ps(), a3 = _mm256_setzero_ps();
    size_t j = 0;
    for (; j + 8 <= k; j += 8) {
        __m256 xv = _mm256_loadu_ps(x + j);
        if ((j & 63) == 0) {  // one cache line of each of the next four rows per 64 values
            _mm_prefetch((const char *)(w0 + 4 * k + j), _MM_HINT_T0);
            _mm_prefetch((const char *)(w1 + 4 * k + j), _MM_HINT_T0);
            _mm_prefetch((const char *)(w2 + 4 * k + j), _MM_HINT_T0);
            _mm_prefetch((const char *)(w3 + 4 * k + j), _MM_HINT_T0);
        }
        a0 = _mm256_fmadd_ps(LOAD8_I8(w0 + j), xv, a0);
        a1 = _mm256_fmadd_ps(LOAD8_I8(w1 + j), xv, a1);
        a2 = _mm256_fmadd_ps(LOAD8_I8(w2 + j), xv, a2);
        a3 = _mm256_fmadd_ps(LOAD8_I8(w3 + j), xv, a3);
    }
    __m256 acc[4] = {a0, a1, a2, a3};
    for (int r = 0; r < 4; r++) out[r] = flamingo_hsum8(acc[r]) + i8_dot_scalar(w + r * k + j, x + j, k - j);
}

__attribute__((target("avx2,fma"))) static float i8_dot_avx2(const int8_t *w, const float *x, size_t k) {
    __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
    size_t j = 0;
    for (; j + 16 <= k; j += 16) {
        a0 = _mm256_fmadd_ps(LOAD8_I8(w + j), _mm256_loadu_ps(x + j), a0);
        a1 = _mm256_fmadd_ps(LOAD8_I8(w + j + 8), _mm256_loadu_ps(x + j + 8), a1);
    }
    for (; j + 8 <= k; j += 8) a0 = _mm256_fmadd_ps(LOAD8_I8(w + j), _mm256_loadu_ps(x + j), a0);
    return flamingo_hsum8(_mm256_add_ps(a0, a1)) + i8_dot_scalar(w + j, x + j, k - j);
}

__attribute__((target("avx2"))) static void i8_widen_avx2(const int8_t *q, float scale, float *dst, size_t n) {
    __m256 s = _mm256_set1_ps(scale);
    size_t j = 0;
    for (; j + 8 <= n; j += 8) _mm256_storeu_ps(dst + j, _mm256_mul_ps(LOAD8_I8(q + j), s));
    for (; j < n; j++) dst[j] = scale * (float)q[j];
}

static int i8_has_avx2(void) {
    static int has = -1;
    if (has < 0) has = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    return has;
}
#endif

void flamingo_i8_gemv(const int8_t *w, const float *scales, size_t k, const float *x, size_t m, float *y, size_t ldy,
                      size_t r0, size_t r1, float beta) {
    size_t r = r0;
#if defined(__x86_64__)
    for (; i8_has_avx2() && r + 4 <= r1; r += 4) {
        for (size_t i = 0; i < m; i++) {
            float d[4];
            i8_dot4_avx2(w + r * k, k, x + i * k, d);
            float *out = y + i * ldy + r;
            for (int q = 0; q < 4; q++) {
                float v = scales[r + q] * d[q];
                out[q] = beta == 0 ? v : beta * out[q] + v;
            }
        }
    }
#endif
    for (; r < r1; r++) {
        const int8_t *row = w + r * k;
        for (size_t i = 0; i < m; i++) {
#if defined(__x86_64__)
            float d = i8_has_avx2() ? i8_dot_avx2(row, x + i * k, k) : i8_dot_scalar(row, x + i * k, k);
#else
            float d = i8_dot_scalar(row, x + i * k, k);
#endif
            float *out = y + i * ldy + r;
            float v = scales[r] * d;
            *out = beta == 0 ? v : beta * *out + v;
        }
    }
}

void flamingo_i8_widen(const int8_t *w, const float *scales, size_t k, size_t r0, size_t r1, float *dst) {
    for (size_t r = r0; r < r1; r++) {
        const int8_t *row = w + r * k;
        float *out = dst + (r - r0) * k;
#if defined(__x86_64__)
        if (i8_has_avx2()) {
            i8_widen_avx2(row, scales[r], out, k);
            continue;
        }
#endif
        for (size_t j = 0; j < k; j++) out[j] = scales[r] * (float)row[j];
    }
}

void flamingo_i8_quantize_rows(const float *w, size_t rows, size_t k, int8_t *q, float *scales) {
    for (size_t r = 0; r < rows; r++) {
        const float *row = w + r * k;
        float amax = 0;
        for (size_t j = 0; j < k; j++) {
            float a = row[j] < 0 ? -row[j] : row[j];
            if (a > amax) amax = a;
        }
        float scale = amax / 127.0f;
        float inverse = scale > 0 ? 1.0f / scale : 0;
        scales[r] = scale;
        for (size_t j = 0; j < k; j++) {
            float v = row[j] * inverse;
            long n = v >= 0 ? (long)(v + 0.5f) : -(long)(-v + 0.5f);  // round half away from zero
            q[r * k + j] = (int8_t)(n > 127 ? 127 : n < -127 ? -127 : n);
        }
    }
}
