// The kernels of CKernels.h written once with clang vector extensions; vector_math.c includes this file
// once per instruction set with ISA (a name suffix) and LANES defined, inside a target attribute.
#define KERNEL_NAME2(base, isa) base##_##isa
#define KERNEL_NAME1(base, isa) KERNEL_NAME2(base, isa)
#define K(base) KERNEL_NAME1(base, ISA)

typedef float K(vfloat) __attribute__((ext_vector_type(LANES)));
typedef int K(vint) __attribute__((ext_vector_type(LANES)));
// The same vector read from or written to any float address.
typedef float K(vfloat_unaligned) __attribute__((ext_vector_type(LANES), aligned(4)));

static inline __attribute__((always_inline)) K(vfloat) K(load)(const float *p) {
    return *(const K(vfloat_unaligned) *)p;
}
static inline __attribute__((always_inline)) void K(store)(float *p, K(vfloat) v) {
    *(K(vfloat_unaligned) *)p = v;
}
// The first `count` (< LANES) floats at p, the other lanes `fill`.
static inline __attribute__((always_inline)) K(vfloat) K(load_partial)(const float *p, size_t count, float fill) {
    K(vfloat) v = fill;
    for (size_t i = 0; i < count; i++) v[i] = p[i];
    return v;
}
static inline __attribute__((always_inline)) void K(store_partial)(float *p, K(vfloat) v, size_t count) {
    for (size_t i = 0; i < count; i++) p[i] = v[i];
}
static inline __attribute__((always_inline)) float K(sum)(K(vfloat) v) {
    float s = 0;
    for (int i = 0; i < LANES; i++) s += v[i];
    return s;
}
static inline __attribute__((always_inline)) float K(max)(K(vfloat) v) {
    float m = v[0];
    for (int i = 1; i < LANES; i++) m = m > v[i] ? m : v[i];
    return m;
}

// Cephes expf: n = round(x / ln 2) by the 1.5 * 2^23 trick (the sum keeps n in the low mantissa bits, so no
// float->int conversion is needed), r = x - n ln 2 with ln 2 split in two, exp(r) by a degree-5 polynomial,
// 2^n from the exponent bits. Inputs below -87.3 (masked scores are -inf) give exactly 0.
static inline __attribute__((always_inline)) K(vfloat) K(exp)(K(vfloat) value) {
    K(vfloat) x = __builtin_elementwise_min(__builtin_elementwise_max(value, (K(vfloat))-87.3f), (K(vfloat))88.7f);
    K(vfloat) shifted = x * 1.44269504088896341f + 12582912.0f;
    K(vfloat) n = shifted - 12582912.0f;
    K(vfloat) r = x - n * 0.693359375f + n * 2.12194440e-4f;
    K(vfloat) z = r * r;
    K(vfloat) p = 1.9875691500e-4f * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * z + r + 1.0f;
    K(vint) bits = (((K(vint))shifted - 0x4B400000) + 127) << 23;
    K(vfloat) result = p * (K(vfloat))bits;
    K(vint) keep = value >= -87.3f;  // all ones where kept (a NaN input stays NaN through p)
    return (K(vfloat))((K(vint))result & keep);
}

static void K(exp_array)(const float *x, float *y, size_t n) {
    size_t i = 0;
    for (; i + LANES <= n; i += LANES) K(store)(y + i, K(exp)(K(load)(x + i)));
    if (i < n) K(store_partial)(y + i, K(exp)(K(load_partial)(x + i, n - i, 0)), n - i);
}

static inline __attribute__((always_inline)) K(vfloat) K(quick_gelu_vector)(K(vfloat) v) {
    return v / (1.0f + K(exp)(-1.702f * v));
}

static void K(quick_gelu)(float *x, size_t n, const float *bias, size_t columns) {
    if (bias == NULL) {
        size_t i = 0;
        for (; i + LANES <= n; i += LANES) K(store)(x + i, K(quick_gelu_vector)(K(load)(x + i)));
        if (i < n) K(store_partial)(x + i, K(quick_gelu_vector)(K(load_partial)(x + i, n - i, 0)), n - i);
        return;
    }
    // Row by row of `columns` (n is a whole number of rows when a bias is given).
    for (size_t start = 0; start < n; start += columns) {
        float *row = x + start;
        size_t j = 0;
        for (; j + LANES <= columns; j += LANES)
            K(store)(row + j, K(quick_gelu_vector)(K(load)(row + j) + K(load)(bias + j)));
        if (j < columns) {
            size_t rest = columns - j;
            K(vfloat) v = K(load_partial)(row + j, rest, 0) + K(load_partial)(bias + j, rest, 0);
            K(store_partial)(row + j, K(quick_gelu_vector)(v), rest);
        }
    }
}

// erf by a rational approximation on [-4, 4] (Eigen's `generic_fast_erf_float`, from XLA; absolute error
// below 4e-7, and erf is ±1 to float precision beyond 4): x P(x²) / Q(x²).
static inline __attribute__((always_inline)) K(vfloat) K(erf)(K(vfloat) value) {
    K(vfloat) x = __builtin_elementwise_min(__builtin_elementwise_max(value, (K(vfloat))-4.0f), (K(vfloat))4.0f);
    K(vfloat) x2 = x * x;
    K(vfloat) p = -2.72614225801306e-10f * x2 + 2.77068142495902e-08f;
    p = p * x2 - 2.10102402082508e-06f;
    p = p * x2 - 5.69250639462346e-05f;
    p = p * x2 - 7.34990630326855e-04f;
    p = p * x2 - 2.95459980854025e-03f;
    p = p * x2 - 1.60960333262415e-02f;
    K(vfloat) q = -1.45660718464996e-05f * x2 - 2.13374055278905e-04f;
    q = q * x2 - 1.68282697438203e-03f;
    q = q * x2 - 7.37332916720468e-03f;
    q = q * x2 - 1.42647390514189e-02f;
    return x * p / q;
}

static inline __attribute__((always_inline)) K(vfloat) K(gelu_vector)(K(vfloat) v) {
    return 0.5f * v * (1.0f + K(erf)(v * 0.70710678118654752f));
}

static void K(gelu)(float *x, size_t n) {
    size_t i = 0;
    for (; i + LANES <= n; i += LANES) K(store)(x + i, K(gelu_vector)(K(load)(x + i)));
    if (i < n) K(store_partial)(x + i, K(gelu_vector)(K(load_partial)(x + i, n - i, 0)), n - i);
}

static void K(softmax_rows)(float *x, size_t rows, size_t n, size_t ld) {
    for (size_t r = 0; r < rows; r++) {
        float *row = x + r * ld;
        size_t full = n / LANES * LANES, rest = n - full;
        K(vfloat) mv = -__builtin_inff();
        for (size_t j = 0; j < full; j += LANES) mv = __builtin_elementwise_max(mv, K(load)(row + j));
        if (rest) mv = __builtin_elementwise_max(mv, K(load_partial)(row + full, rest, -__builtin_inff()));
        float m = K(max)(mv);
        if (m == -__builtin_inff()) {
            for (size_t j = 0; j < n; j++) row[j] = 1.0f / (float)n;
            continue;
        }
        K(vfloat) sv = 0;
        for (size_t j = 0; j < full; j += LANES) {
            K(vfloat) e = K(exp)(K(load)(row + j) - m);
            K(store)(row + j, e);
            sv += e;
        }
        if (rest) {
            K(vfloat) e = K(exp)(K(load_partial)(row + full, rest, -__builtin_inff()) - m);
            K(store_partial)(row + full, e, rest);
            sv += e;
        }
        float inv = 1.0f / K(sum)(sv);
        for (size_t j = 0; j < full; j += LANES) K(store)(row + j, K(load)(row + j) * inv);
        for (size_t j = full; j < n; j++) row[j] *= inv;
    }
}

static void K(layer_norm_rows)(const float *src, float *dst, size_t rows, size_t n, const float *weight,
                               const float *bias, float eps) {
    size_t full = n / LANES * LANES, rest = n - full;
    float inv_n = 1.0f / (float)n;
    for (size_t r = 0; r < rows; r++) {
        const float *x = src + r * n;
        float *y = dst + r * n;
        K(vfloat) sv = 0;
        for (size_t j = 0; j < full; j += LANES) sv += K(load)(x + j);
        if (rest) sv += K(load_partial)(x + full, rest, 0);
        float mean = K(sum)(sv) * inv_n;
        K(vfloat) qv = 0;
        for (size_t j = 0; j < full; j += LANES) {
            K(vfloat) d = K(load)(x + j) - mean;
            qv += d * d;
        }
        if (rest) {
            K(vfloat) d = K(load_partial)(x + full, rest, mean) - mean;
            qv += d * d;
        }
        float scale = 1.0f / __builtin_sqrtf(K(sum)(qv) * inv_n + eps);
        for (size_t j = 0; j < full; j += LANES) {
            K(vfloat) v = (K(load)(x + j) - mean) * scale * K(load)(weight + j);
            K(store)(y + j, bias ? v + K(load)(bias + j) : v);
        }
        for (size_t j = full; j < n; j++) {
            float v = (x[j] - mean) * scale * weight[j];
            y[j] = bias ? v + bias[j] : v;
        }
    }
}

// One query against a short cache (decoding): out[j] = scale * dot(q, k_j) for rows j of k (stride ldk).
static void K(dot_rows)(const float *q, const float *k, size_t ldk, size_t rows, size_t d, float scale, float *out) {
    for (size_t j = 0; j < rows; j++) {
        const float *kr = k + j * ldk;
        K(vfloat) acc = 0;
        size_t t = 0;
        for (; t + LANES <= d; t += LANES) acc += K(load)(q + t) * K(load)(kr + t);
        if (t < d) acc += K(load_partial)(q + t, d - t, 0) * K(load_partial)(kr + t, d - t, 0);
        out[j] = K(sum)(acc) * scale;
    }
}

// out (d) = sum_j p[j] * v_j for rows j of v (stride ldv): the attention output of one query.
static void K(weighted_rows_sum)(const float *p, const float *v, size_t ldv, size_t rows, size_t d, float *out) {
    for (size_t t = 0; t < d; t += LANES) {
        size_t width = d - t < LANES ? d - t : LANES;
        K(vfloat) acc = 0;
        if (width == LANES) {
            for (size_t j = 0; j < rows; j++) acc += p[j] * K(load)(v + j * ldv + t);
            K(store)(out + t, acc);
        } else {
            for (size_t j = 0; j < rows; j++) acc += p[j] * K(load_partial)(v + j * ldv + t, width, 0);
            K(store_partial)(out + t, acc, width);
        }
    }
}

#undef K
#undef KERNEL_NAME1
#undef KERNEL_NAME2
