#include "CHalf.h"
#include "half_bits.h"
#include "lane_sum.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

// 4-bit weights at rest (docs/QUANTIZATION.md, "q4_block32"): each row of k values (k a multiple of 32)
// is cut into blocks of 32, each with an F16 scale d; value = d * (q - 8) with q in [0, 15]. A block's
// 16 bytes hold its values 0-15 in the low nibbles and 16-31 in the high nibbles (llama.cpp's Q4_0
// order), so one load, a shift and a mask give all 32 in order.

// Round to the nearest F16 value (ties to even), as bits. Finite inputs within F16's range only
// (scales are max|block| / 8 of finite weights).
static uint16_t q4_float_to_half(float f) {
    uint32_t x;
    memcpy(&x, &f, 4);
    uint32_t sign = (x >> 16) & 0x8000;
    int32_t exponent = (int32_t)((x >> 23) & 0xFF) - 127 + 15;
    uint32_t mantissa = x & 0x7FFFFF;
    if (exponent >= 31) return (uint16_t)(sign | 0x7BFF);  // clamp to the largest finite half
    if (exponent <= 0) {                                   // subnormal or zero
        if (exponent < -10) return (uint16_t)sign;
        mantissa |= 0x800000;
        uint32_t shift = (uint32_t)(14 - exponent);
        uint32_t half = mantissa >> shift, rest = mantissa & ((1u << shift) - 1), mid = 1u << (shift - 1);
        if (rest > mid || (rest == mid && (half & 1))) half++;
        return (uint16_t)(sign | half);
    }
    uint32_t half = ((uint32_t)exponent << 10) | (mantissa >> 13), rest = mantissa & 0x1FFF;
    if (rest > 0x1000 || (rest == 0x1000 && (half & 1))) half++;  // may carry into the exponent: correct
    return (uint16_t)(sign | half);
}

void flamingo_q4_quantize_rows(const float *w, size_t rows, size_t k, uint8_t *packed, uint16_t *scales) {
    const size_t blocks = k / 32;
    for (size_t r = 0; r < rows; r++) {
        for (size_t b = 0; b < blocks; b++) {
            const float *v = w + r * k + 32 * b;
            float extreme = 0;  // the value of largest magnitude, with its sign
            for (int j = 0; j < 32; j++)
                if (fabsf(v[j]) > fabsf(extreme)) extreme = v[j];
            uint16_t h = extreme != 0 ? q4_float_to_half(extreme / -8.0f) : 0;  // not -0
            float d = flamingo_half_to_float(h), inverse = d != 0 ? 1.0f / d : 0;
            scales[r * blocks + b] = h;
            uint8_t *out = packed + r * (k / 2) + 16 * b;
            for (int j = 0; j < 16; j++) {
                int lo = (int)floorf(v[j] * inverse + 8.5f), hi = (int)floorf(v[j + 16] * inverse + 8.5f);
                lo = lo < 0 ? 0 : lo > 15 ? 15 : lo;
                hi = hi < 0 ? 0 : hi > 15 ? 15 : hi;
                out[j] = (uint8_t)(lo | (hi << 4));
            }
        }
    }
}

void flamingo_q4_widen(const uint8_t *w, const uint16_t *scales, size_t k, size_t r0, size_t r1, float *dst) {
    const size_t blocks = k / 32;
    for (size_t r = r0; r < r1; r++) {
        float *out = dst + (r - r0) * k;
        for (size_t b = 0; b < blocks; b++) {
            const uint8_t *q = w + r * (k / 2) + 16 * b;
            float d = flamingo_half_to_float(scales[r * blocks + b]);
            for (int j = 0; j < 16; j++) {
                out[32 * b + j] = d * (float)((int)(q[j] & 0x0F) - 8);
                out[32 * b + j + 16] = d * (float)((int)(q[j] >> 4) - 8);
            }
        }
    }
}

static float q4_dot_scalar(const uint8_t *w, const uint16_t *scales, size_t k, const float *x) {
    float acc = 0;
    for (size_t b = 0; b < k / 32; b++) {
        float d = flamingo_half_to_float(scales[b]), s = 0;
        for (int j = 0; j < 16; j++) {
            s += (float)((int)(w[16 * b + j] & 0x0F) - 8) * x[32 * b + j];
            s += (float)((int)(w[16 * b + j] >> 4) - 8) * x[32 * b + j + 16];
        }
        acc += d * s;
    }
    return acc;
}

#if defined(__x86_64__)
// Four rows against one input row quantized to int8 blocks of 32 (flamingo_i8_quantize_blocks): each
// block's 32 products summed exactly in int32 (maddubs on |x| and w carrying x's sign, then madd),
// scaled by the weight block's scale times the input block's. Rows 16-19 ahead are prefetched into L2.
__attribute__((target("avx2,fma,f16c"))) static void q4_dot4_avx2(const uint8_t *w, const uint16_t *ws, size_t k,
                                                                  const int8_t *xq, const float *xs, float out[4]) {
    const size_t row = k / 2, blocks = k / 32;
    const __m256i ones = _mm256_set1_epi16(1), low = _mm256_set1_epi8(0x0F), eight = _mm256_set1_epi8(8);
    __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps(), a2 = _mm256_setzero_ps(), a3 = _mm256_setzero_ps();
    for (size_t b = 0; b < blocks; b++) {
        __m256i xv = _mm256_loadu_si256((const __m256i *)(xq + 32 * b));
        __m256i ax = _mm256_sign_epi8(xv, xv);
        if ((b & 3) == 0) {
            _mm_prefetch((const char *)(w + 16 * row + 16 * b), _MM_HINT_T1);
            _mm_prefetch((const char *)(w + 17 * row + 16 * b), _MM_HINT_T1);
            _mm_prefetch((const char *)(w + 18 * row + 16 * b), _MM_HINT_T1);
            _mm_prefetch((const char *)(w + 19 * row + 16 * b), _MM_HINT_T1);
        }
#define Q4_BLOCK(ACC, ROW)                                                                              \
        {                                                                                               \
            __m128i raw = _mm_loadu_si128((const __m128i *)(w + (ROW) * row + 16 * b));                   \
            __m256i wv = _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(raw, 4), raw), low);           \
            wv = _mm256_sub_epi8(wv, eight);                                                            \
            __m256i p = _mm256_madd_epi16(_mm256_maddubs_epi16(ax, _mm256_sign_epi8(wv, xv)), ones);       \
            __m256 d = _mm256_set1_ps(xs[b] * _cvtsh_ss(ws[(ROW) * blocks + b]));                        \
            ACC = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p), d, ACC);                                        \
        }
        Q4_BLOCK(a0, 0)
        Q4_BLOCK(a1, 1)
        Q4_BLOCK(a2, 2)
        Q4_BLOCK(a3, 3)
#undef Q4_BLOCK
    }
    out[0] = flamingo_hsum8(a0);
    out[1] = flamingo_hsum8(a1);
    out[2] = flamingo_hsum8(a2);
    out[3] = flamingo_hsum8(a3);
}

// One row (the rows left after groups of four), the same integer sums.
__attribute__((target("avx2,fma,f16c"))) static float q4_dot_avx2(const uint8_t *w, const uint16_t *ws, size_t k,
                                                                   const int8_t *xq, const float *xs) {
    const __m256i ones = _mm256_set1_epi16(1), low = _mm256_set1_epi8(0x0F), eight = _mm256_set1_epi8(8);
    __m256 acc = _mm256_setzero_ps();
    for (size_t b = 0; b < k / 32; b++) {
        __m256i xv = _mm256_loadu_si256((const __m256i *)(xq + 32 * b));
        __m128i raw = _mm_loadu_si128((const __m128i *)(w + 16 * b));
        __m256i wv = _mm256_sub_epi8(_mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(raw, 4), raw), low), eight);
        __m256i p = _mm256_madd_epi16(_mm256_maddubs_epi16(_mm256_sign_epi8(xv, xv), _mm256_sign_epi8(wv, xv)), ones);
        acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p), _mm256_set1_ps(xs[b] * _cvtsh_ss(ws[b])), acc);
    }
    return flamingo_hsum8(acc);
}

static int q4_has_avx2(void) {
    static int has = -1;
    if (has < 0) has = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c");
    return has;
}
#endif

void flamingo_q4_gemv(const uint8_t *w, const uint16_t *scales, size_t k, const float *x, size_t m, float *y,
                      size_t ldy, size_t r0, size_t r1, float beta) {
    const size_t blocks = k / 32;
    size_t r = r0;
#if defined(__x86_64__)
    if (q4_has_avx2() && m <= 8) {
        int8_t *xq = malloc(m * k);
        float *xs = malloc(m * blocks * sizeof(float));
        if (xq && xs) {
            for (size_t i = 0; i < m; i++) flamingo_i8_quantize_blocks(x + i * k, k, xq + i * k, xs + i * blocks);
            for (; r + 4 <= r1; r += 4) {
                for (size_t i = 0; i < m; i++) {
                    float d[4];
                    q4_dot4_avx2(w + r * (k / 2), scales + r * blocks, k, xq + i * k, xs + i * blocks, d);
                    float *out = y + i * ldy + r;
                    for (int q = 0; q < 4; q++) out[q] = beta == 0 ? d[q] : beta * out[q] + d[q];
                }
            }
            for (; r < r1; r++) {
                for (size_t i = 0; i < m; i++) {
                    float d = q4_dot_avx2(w + r * (k / 2), scales + r * blocks, k, xq + i * k, xs + i * blocks);
                    float *out = y + i * ldy + r;
                    *out = beta == 0 ? d : beta * *out + d;
                }
            }
        }
        free(xq);
        free(xs);
    }
#endif
    for (; r < r1; r++) {
        for (size_t i = 0; i < m; i++) {
            float d = q4_dot_scalar(w + r * (k / 2), scales + r * blocks, k, x + i * k);
            float *out = y + i * ldy + r;
            *out = beta == 0 ? d : beta * *out + d;
        }
    }
}

