#ifndef FLAMINGO_LANE_SUM_H
#define FLAMINGO_LANE_SUM_H

#if defined(__x86_64__)
#include <immintrin.h>

// The sum of a vector's eight float lanes (shared by the F16 and int8 kernels).
__attribute__((target("avx2,fma"))) static inline float flamingo_hsum8(__m256 s) {
    __m128 q = _mm_add_ps(_mm256_castps256_ps128(s), _mm256_extractf128_ps(s, 1));
    q = _mm_add_ps(q, _mm_movehl_ps(q, q));
    q = _mm_add_ss(q, _mm_movehdup_ps(q));
    return _mm_cvtss_f32(q);
}
#endif

#endif
