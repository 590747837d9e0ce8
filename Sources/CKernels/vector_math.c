#include "CKernels.h"

// Each instruction set gets its own copy of the kernels (vector_kernels.h), compiled for that target.
#if defined(__x86_64__)
#pragma clang attribute push(__attribute__((target("avx512f,avx512dq,fma"))), apply_to = function)
#define ISA avx512
#define LANES 16
#include "vector_kernels.h"
#undef ISA
#undef LANES
#pragma clang attribute pop

#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)
#define ISA avx2
#define LANES 8
#include "vector_kernels.h"
#undef ISA
#undef LANES
#pragma clang attribute pop
#endif

#define ISA baseline
#define LANES 4
#include "vector_kernels.h"
#undef ISA
#undef LANES

typedef enum { isa_baseline, isa_avx2, isa_avx512 } vector_isa;

static vector_isa detected_isa(void) {
    static int isa = -1;
    if (isa < 0) {
        isa = isa_baseline;
#if defined(__x86_64__)
        __builtin_cpu_init();
        if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("fma"))
            isa = isa_avx512;
        else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
            isa = isa_avx2;
#endif
    }
    return (vector_isa)isa;
}

#if defined(__x86_64__)
#define DISPATCH(name, ...)                                         \
    switch (detected_isa()) {                                       \
    case isa_avx512: name##_avx512(__VA_ARGS__); return;            \
    case isa_avx2: name##_avx2(__VA_ARGS__); return;                \
    default: name##_baseline(__VA_ARGS__); return;                  \
    }
#else
#define DISPATCH(name, ...) name##_baseline(__VA_ARGS__);
#endif

void flamingo_exp(const float *x, float *y, size_t n) { DISPATCH(exp_array, x, y, n) }

void flamingo_quick_gelu(float *x, size_t n, const float *bias, size_t columns) {
    DISPATCH(quick_gelu, x, n, bias, columns)
}

void flamingo_softmax_rows(float *x, size_t rows, size_t n, size_t ld) { DISPATCH(softmax_rows, x, rows, n, ld) }

void flamingo_layer_norm_rows(const float *src, float *dst, size_t rows, size_t n, const float *weight,
                              const float *bias, float eps) {
    DISPATCH(layer_norm_rows, src, dst, rows, n, weight, bias, eps)
}

const char *flamingo_vector_kernels_isa(void) {
    switch (detected_isa()) {
    case isa_avx512: return "avx512";
    case isa_avx2: return "avx2";
    default: return "baseline";
    }
}
