#include "CHalf.h"
#include "lane_sum.h"

#include <stdlib.h>

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

#if defined(__x86_64__)
// Integer dot products (llama.cpp's Q8_0 x Q8_0 scheme): the input row is quantized to int8 in
// blocks of 32 values, each with its own scale, and each block's 32 products are summed exactly in
// int32 by maddubs (|x| as unsigned times w with x's sign) and madd, then scaled into a float
// accumulator. Four weight rows share each input block.
__attribute__((target("avx2,fma"))) static void i8_dot4_q8_avx2(const int8_t *w, size_t k, const int8_t *xq,
                                                                const float *xs, float out[4]) {
    const __m256i ones = _mm256_set1_epi16(1);
    __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps(), a2 = _mm256_setzero_ps(), a3 = _mm256_setzero_ps();
    for (size_t b = 0; b < k / 32; b++) {
        const size_t j = 32 * b;
        __m256i xv = _mm256_loadu_si256((const __m256i *)(xq + j));
        __m256i ax = _mm256_sign_epi8(xv, xv);
        __m256 d = _mm256_set1_ps(xs[b]);
        if ((j & 63) == 0) {  // rows 16-19 ahead into L2 (measured: 1.5-1.7x the rate of rows 4-7 into L1)
            _mm_prefetch((const char *)(w + 16 * k + j), _MM_HINT_T1);
            _mm_prefetch((const char *)(w + 17 * k + j), _MM_HINT_T1);
            _mm_prefetch((const char *)(w + 18 * k + j), _MM_HINT_T1);
            _mm_prefetch((const char *)(w + 19 * k + j), _MM_HINT_T1);
        }
#define I8_BLOCK(ACC, ROW)                                                                               \
        {                                                                                                \
            __m256i wv = _mm256_loadu_si256((const __m256i *)(w + (ROW) * k + j));                        \
            __m256i p = _mm256_madd_epi16(_mm256_maddubs_epi16(ax, _mm256_sign_epi8(wv, xv)), ones);        \
            ACC = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p), d, ACC);                                         \
        }
        I8_BLOCK(a0, 0)
        I8_BLOCK(a1, 1)
        I8_BLOCK(a2, 2)
        I8_BLOCK(a3, 3)
#undef I8_BLOCK
    }
    out[0] = flamingo_hsum8(a0);
    out[1] = flamingo_hsum8(a1);
    out[2] = flamingo_hsum8(a2);
    out[3] = flamingo_hsum8(a3);
}

__attribute__((target("avx2,fma"))) static float i8_dot_q8_avx2(const int8_t *w, size_t k, const int8_t *xq,
                                                               const float *xs) {
    const __m256i ones = _mm256_set1_epi16(1);
    __m256 acc = _mm256_setzero_ps();
    for (size_t b = 0; b < k / 32; b++) {
        __m256i xv = _mm256_loadu_si256((const __m256i *)(xq + 32 * b));
        __m256i wv = _mm256_loadu_si256((const __m256i *)(w + 32 * b));
        __m256i p = _mm256_madd_epi16(_mm256_maddubs_epi16(_mm256_sign_epi8(xv, xv), _mm256_sign_epi8(wv, xv)), ones);
        acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p), _mm256_set1_ps(xs[b]), acc);
    }
    return flamingo_hsum8(acc);
}
#endif

static void i8_quantize_blocks_scalar(const float *x, size_t n, int8_t *q, float *scales) {
    for (size_t b = 0; b < n / 32; b++) {
        const float *v = x + 32 * b;
        float amax = 0;
        for (int j = 0; j < 32; j++) {
            float a = v[j] < 0 ? -v[j] : v[j];
            if (a > amax) amax = a;
        }
        float d = amax / 127.0f, inverse = d > 0 ? 1.0f / d : 0;
        scales[b] = d;
        for (int j = 0; j < 32; j++) {
            float t = v[j] * inverse;
            long r = t >= 0 ? (long)(t + 0.5f) : -(long)(-t + 0.5f);
            q[32 * b + j] = (int8_t)(r > 127 ? 127 : r < -127 ? -127 : r);
        }
    }
}

#if defined(__x86_64__)
// The same arithmetic eight lanes at a time (identical results): |t| + 0.5 floored, the sign put back.
__attribute__((target("avx2,fma"))) static void i8_quantize_blocks_avx2(const float *x, size_t n, int8_t *q, float *scales) {
    const __m256 sign = _mm256_set1_ps(-0.0f), half = _mm256_set1_ps(0.5f);
    const __m256i limit = _mm256_set1_epi32(127), low = _mm256_set1_epi32(-127);
    for (size_t b = 0; b < n / 32; b++) {
        const float *v = x + 32 * b;
        __m256 m = _mm256_andnot_ps(sign, _mm256_loadu_ps(v));
        m = _mm256_max_ps(m, _mm256_andnot_ps(sign, _mm256_loadu_ps(v + 8)));
        m = _mm256_max_ps(m, _mm256_andnot_ps(sign, _mm256_loadu_ps(v + 16)));
        m = _mm256_max_ps(m, _mm256_andnot_ps(sign, _mm256_loadu_ps(v + 24)));
        __m128 h = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
        h = _mm_max_ps(h, _mm_movehl_ps(h, h));
        h = _mm_max_ss(h, _mm_movehdup_ps(h));
        float amax = _mm_cvtss_f32(h);
        float d = amax / 127.0f, inverse = d > 0 ? 1.0f / d : 0;
        scales[b] = d;
        const __m256 inv = _mm256_set1_ps(inverse);
        __m256i ints[4];
        for (int part = 0; part < 4; part++) {
            __m256 t = _mm256_mul_ps(_mm256_loadu_ps(v + 8 * part), inv);
            __m256 r = _mm256_floor_ps(_mm256_add_ps(_mm256_andnot_ps(sign, t), half));
            r = _mm256_or_ps(r, _mm256_and_ps(sign, t));
            ints[part] = _mm256_max_epi32(_mm256_min_epi32(_mm256_cvttps_epi32(r), limit), low);
        }
        // int32 -> int8 in order: packs work within 128-bit lanes, so fix the order with a permute.
        __m256i p16a = _mm256_packs_epi32(ints[0], ints[1]), p16b = _mm256_packs_epi32(ints[2], ints[3]);
        __m256i p8 = _mm256_packs_epi16(p16a, p16b);
        p8 = _mm256_permutevar8x32_epi32(p8, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
        _mm256_storeu_si256((__m256i *)(q + 32 * b), p8);
    }
}
#endif

void flamingo_i8_quantize_blocks(const float *x, size_t n, int8_t *q, float *scales) {
#if defined(__x86_64__)
    if (i8_has_avx2()) {
        i8_quantize_blocks_avx2(x, n, q, scales);
        return;
    }
#endif
    i8_quantize_blocks_scalar(x, n, q, scales);
}

void flamingo_i8_gemv(const int8_t *w, const float *scales, size_t k, const float *x, size_t m, float *y, size_t ldy,
                      size_t r0, size_t r1, float beta) {
    size_t r = r0;
#if defined(__x86_64__)
    if (i8_has_avx2() && k % 32 == 0 && k > 0 && m <= 8) {
        // The input rows in int8 blocks (at most 8 rows: decoding, one per beam).
        int8_t *xq = malloc(m * k);
        float *xs = malloc(m * (k / 32) * sizeof(float));
        if (xq && xs) {
            for (size_t i = 0; i < m; i++) flamingo_i8_quantize_blocks(x + i * k, k, xq + i * k, xs + i * (k / 32));
            for (; r + 4 <= r1; r += 4) {
                for (size_t i = 0; i < m; i++) {
                    float d[4];
                    i8_dot4_q8_avx2(w + r * k, k, xq + i * k, xs + i * (k / 32), d);
                    float *out = y + i * ldy + r;
                    for (int q = 0; q < 4; q++) {
                        float v = scales[r + q] * d[q];
                        out[q] = beta == 0 ? v : beta * out[q] + v;
                    }
                }
            }
            for (; r < r1; r++) {
                for (size_t i = 0; i < m; i++) {
                    float v = scales[r] * i8_dot_q8_avx2(w + r * k, k, xq + i * k, xs + i * (k / 32));
                    float *out = y + i * ldy + r;
                    *out = beta == 0 ? v : beta * *out + v;
                }
            }
        }
        free(xq);
        free(xs);
        if (r == r1) return;
    }
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
