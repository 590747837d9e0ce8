#include "CKernels.h"

#include <string.h>

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

// The widest set this CPU has.
static vector_isa supported_isa(void) {
#if defined(__x86_64__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("fma"))
        return isa_avx512;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return isa_avx2;
#endif
    return isa_baseline;
}

static int selected_isa = -1;

static vector_isa detected_isa(void) {
    if (selected_isa < 0) selected_isa = supported_isa();
    return (vector_isa)selected_isa;
}

// Indexed by vector_isa.
static const char *const isa_names[] = {"baseline", "avx2", "avx512"};

int flamingo_vector_kernels_select(const char *isa) {
    for (int i = 0; i <= isa_avx512; i++) {
        if (strcmp(isa, isa_names[i]) == 0 && i <= (int)supported_isa()) {
            selected_isa = i;
            return 1;
        }
    }
    return 0;
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

void flamingo_gelu(float *x, size_t n) { DISPATCH(gelu, x, n) }

void flamingo_softmax_rows(float *x, size_t rows, size_t n, size_t ld) { DISPATCH(softmax_rows, x, rows, n, ld) }

void flamingo_layer_norm_rows(const float *src, float *dst, size_t rows, size_t n, const float *weight,
                              const float *bias, float eps) {
    DISPATCH(layer_norm_rows, src, dst, rows, n, weight, bias, eps)
}

void flamingo_dot_rows(const float *q, const float *k, size_t ldk, size_t rows, size_t d, float scale, float *out) {
    DISPATCH(dot_rows, q, k, ldk, rows, d, scale, out)
}

void flamingo_weighted_rows_sum(const float *p, const float *v, size_t ldv, size_t rows, size_t d, float *out) {
    DISPATCH(weighted_rows_sum, p, v, ldv, rows, d, out)
}

const char *flamingo_vector_kernels_isa(void) { return isa_names[detected_isa()]; }
