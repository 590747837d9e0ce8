#include "CInt8Matmul.h"

#include <oneapi/dnnl/dnnl.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

// The OpenMP runtime oneDNN is built with on Debian (libgomp): the thread count of the next parallel
// region started from the calling thread.
extern void omp_set_num_threads(int threads);

enum { CACHED_SHAPES = 16 };

struct flamingo_i8_matmul {
    size_t n, k;
    const int8_t *plain;       // (n, k) row-major: the (k, n) weights of oneDNN's matmul in tag `ba`
    dnnl_memory_desc_t wmd;    // the layout the primitives read (plain, or the packed one)
    dnnl_memory_t weights;     // the memory the primitives read
    int packed;
    pthread_mutex_t lock;
    struct {
        size_t m;
        dnnl_primitive_t primitive;
        size_t scratchpad;  // bytes
    } cache[CACHED_SHAPES];
    int cached;
};

static void say(char *error, size_t size, const char *format, ...) {
    if (!error || size == 0) return;
    va_list args;
    va_start(args, format);
    vsnprintf(error, size, format, args);
    va_end(args);
}

// ---- engine and per-thread streams ----

static dnnl_engine_t engine;
static dnnl_status_t engine_status = dnnl_runtime_error;
static pthread_once_t engine_once = PTHREAD_ONCE_INIT;
static pthread_key_t stream_key;

static void destroy_stream(void *stream) { dnnl_stream_destroy((dnnl_stream_t)stream); }

static void make_engine(void) {
    engine_status = dnnl_engine_create(&engine, dnnl_cpu, 0);
    pthread_key_create(&stream_key, destroy_stream);
}

static dnnl_engine_t the_engine(char *error, size_t size) {
    pthread_once(&engine_once, make_engine);
    if (engine_status != dnnl_success) {
        say(error, size, "oneDNN: no CPU engine (status %d)", (int)engine_status);
        return NULL;
    }
    return engine;
}

// One stream per thread: streams are not shared between threads that execute at the same time.
static dnnl_stream_t thread_stream(char *error, size_t size) {
    dnnl_stream_t stream = (dnnl_stream_t)pthread_getspecific(stream_key);
    if (stream) return stream;
    dnnl_status_t s = dnnl_stream_create(&stream, engine, dnnl_stream_default_flags);
    if (s != dnnl_success) {
        say(error, size, "oneDNN: cannot create a stream (status %d)", (int)s);
        return NULL;
    }
    pthread_setspecific(stream_key, stream);
    return stream;
}

// ---- per-thread scratch: the quantized input (m, k) int8, the int32 product (m, n), the row scales and
// oneDNN's scratchpad ----

typedef struct {
    void *bytes;
    size_t size;
} scratch_buffer;

static pthread_key_t scratch_key;
static pthread_once_t scratch_once = PTHREAD_ONCE_INIT;

enum { SCRATCH_BUFFERS = 4 };

static void free_scratch(void *p) {
    scratch_buffer *buffers = p;
    for (int i = 0; i < SCRATCH_BUFFERS; i++) free(buffers[i].bytes);
    free(buffers);
}

static void make_scratch_key(void) { pthread_key_create(&scratch_key, free_scratch); }

// Grow-only, 64-byte aligned; index 0: xq, 1: s32, 2: row scales, 3: oneDNN's scratchpad.
static void *scratch(int index, size_t size) {
    pthread_once(&scratch_once, make_scratch_key);
    scratch_buffer *buffers = pthread_getspecific(scratch_key);
    if (!buffers) {
        buffers = calloc(SCRATCH_BUFFERS, sizeof(scratch_buffer));
        if (!buffers) return NULL;
        pthread_setspecific(scratch_key, buffers);
    }
    scratch_buffer *b = &buffers[index];
    if (b->size < size) {
        free(b->bytes);
        size_t rounded = (size + 4095) & ~(size_t)4095;
        b->bytes = aligned_alloc(64, rounded);
        b->size = b->bytes ? rounded : 0;
    }
    return b->bytes;
}

// ---- primitives ----

static dnnl_status_t matmul_desc(dnnl_primitive_desc_t *pd, size_t m, size_t k, size_t n,
                                 const dnnl_memory_desc_t *weights) {
    dnnl_memory_desc_t src, dst;
    dnnl_dims_t src_dims = {(dnnl_dim_t)m, (dnnl_dim_t)k}, dst_dims = {(dnnl_dim_t)m, (dnnl_dim_t)n};
    dnnl_status_t s = dnnl_memory_desc_init_by_tag(&src, 2, src_dims, dnnl_s8, dnnl_ab);
    if (s == dnnl_success) s = dnnl_memory_desc_init_by_tag(&dst, 2, dst_dims, dnnl_s32, dnnl_ab);
    dnnl_matmul_desc_t desc;
    if (s == dnnl_success) s = dnnl_matmul_desc_init(&desc, &src, weights, NULL, &dst);
    // The caller passes the scratchpad (its thread's): oneDNN's own is one global buffer unless the
    // library is built for concurrent execution (Debian's is not), and threads run matmuls at once.
    dnnl_primitive_attr_t attr = NULL;
    if (s == dnnl_success) s = dnnl_primitive_attr_create(&attr);
    if (s == dnnl_success) s = dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user);
    if (s == dnnl_success) s = dnnl_primitive_desc_create(pd, &desc, attr, engine, NULL);
    if (attr) dnnl_primitive_attr_destroy(attr);
    return s;
}

// The primitive for m rows: from the cache, or created (and cached while there is room; otherwise
// `*transient` is set and the caller destroys it after use, so no cached primitive is ever destroyed
// while another thread may run it).
static dnnl_primitive_t primitive_for(flamingo_i8_matmul *mm, size_t m, int *transient, size_t *scratchpad,
                                      char *error, size_t size) {
    *transient = 0;
    pthread_mutex_lock(&mm->lock);
    for (int i = 0; i < mm->cached; i++) {
        if (mm->cache[i].m == m) {
            dnnl_primitive_t p = mm->cache[i].primitive;
            *scratchpad = mm->cache[i].scratchpad;
            pthread_mutex_unlock(&mm->lock);
            return p;
        }
    }
    pthread_mutex_unlock(&mm->lock);

    dnnl_primitive_desc_t pd;
    dnnl_status_t s = matmul_desc(&pd, m, mm->k, mm->n, &mm->wmd);
    if (s != dnnl_success) {
        say(error, size, "oneDNN: no int8 matmul for (%zu x %zu) x (%zu x %zu) (status %d)", m, mm->k, mm->k, mm->n, (int)s);
        return NULL;
    }
    dnnl_primitive_t p;
    *scratchpad = dnnl_memory_desc_get_size(dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0));
    s = dnnl_primitive_create(&p, pd);
    dnnl_primitive_desc_destroy(pd);
    if (s != dnnl_success) {
        say(error, size, "oneDNN: cannot create the int8 matmul for %zu rows (status %d)", m, (int)s);
        return NULL;
    }
    pthread_mutex_lock(&mm->lock);
    int found = -1;
    for (int i = 0; i < mm->cached; i++) if (mm->cache[i].m == m) found = i;
    if (found >= 0) {  // another thread cached the same shape meanwhile
        dnnl_primitive_t existing = mm->cache[found].primitive;
        pthread_mutex_unlock(&mm->lock);
        dnnl_primitive_destroy(p);
        return existing;
    }
    if (mm->cached < CACHED_SHAPES) {
        mm->cache[mm->cached].m = m;
        mm->cache[mm->cached].primitive = p;
        mm->cache[mm->cached].scratchpad = *scratchpad;
        mm->cached++;
    } else {
        *transient = 1;
    }
    pthread_mutex_unlock(&mm->lock);
    return p;
}

flamingo_i8_matmul *flamingo_i8_matmul_create(const int8_t *w, size_t n, size_t k, int pack, char *error,
                                              size_t error_size) {
    if (!the_engine(error, error_size)) return NULL;
    if (n == 0 || k == 0) {
        say(error, error_size, "int8 matmul: empty weights (%zu x %zu)", n, k);
        return NULL;
    }
    flamingo_i8_matmul *mm = calloc(1, sizeof(*mm));
    if (!mm) {
        say(error, error_size, "int8 matmul: out of memory");
        return NULL;
    }
    mm->n = n;
    mm->k = k;
    mm->plain = w;
    pthread_mutex_init(&mm->lock, NULL);

    dnnl_memory_desc_t plain;
    dnnl_dims_t dims = {(dnnl_dim_t)k, (dnnl_dim_t)n};
    dnnl_status_t s = dnnl_memory_desc_init_by_tag(&plain, 2, dims, dnnl_s8, dnnl_ba);
    mm->wmd = plain;
    if (s == dnnl_success && pack) {
        // The layout oneDNN picks for a representative prompt (256 rows); primitives for other row
        // counts are created with the same weight layout (tests check several).
        dnnl_memory_desc_t any;
        dnnl_primitive_desc_t pd = NULL, reorder_pd = NULL;
        dnnl_primitive_t reorder = NULL;
        dnnl_memory_t from = NULL;
        s = dnnl_memory_desc_init_by_tag(&any, 2, dims, dnnl_s8, dnnl_format_tag_any);
        if (s == dnnl_success) s = matmul_desc(&pd, 256, k, n, &any);
        if (s == dnnl_success) mm->wmd = *dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0);
        if (s == dnnl_success) s = dnnl_memory_create(&mm->weights, &mm->wmd, engine, DNNL_MEMORY_ALLOCATE);
        if (s == dnnl_success) s = dnnl_memory_create(&from, &plain, engine, (void *)w);
        if (s == dnnl_success) s = dnnl_reorder_primitive_desc_create(&reorder_pd, &plain, engine, &mm->wmd, engine, NULL);
        if (s == dnnl_success) s = dnnl_primitive_create(&reorder, reorder_pd);
        dnnl_stream_t stream = s == dnnl_success ? thread_stream(error, error_size) : NULL;
        if (s == dnnl_success && !stream) s = dnnl_runtime_error;
        if (s == dnnl_success) {
            dnnl_exec_arg_t args[2] = {{DNNL_ARG_FROM, from}, {DNNL_ARG_TO, mm->weights}};
            s = dnnl_primitive_execute(reorder, stream, 2, args);
            if (s == dnnl_success) s = dnnl_stream_wait(stream);
        }
        if (reorder) dnnl_primitive_destroy(reorder);
        if (reorder_pd) dnnl_primitive_desc_destroy(reorder_pd);
        if (from) dnnl_memory_destroy(from);
        if (pd) dnnl_primitive_desc_destroy(pd);
        mm->packed = 1;
    } else if (s == dnnl_success) {
        s = dnnl_memory_create(&mm->weights, &plain, engine, (void *)w);
    }
    if (s != dnnl_success) {
        say(error, error_size, "oneDNN: cannot set up int8 weights (%zu x %zu) (status %d)", n, k, (int)s);
        flamingo_i8_matmul_destroy(mm);
        return NULL;
    }
    return mm;
}

void flamingo_i8_matmul_destroy(flamingo_i8_matmul *mm) {
    if (!mm) return;
    for (int i = 0; i < mm->cached; i++) dnnl_primitive_destroy(mm->cache[i].primitive);
    if (mm->weights) dnnl_memory_destroy(mm->weights);
    pthread_mutex_destroy(&mm->lock);
    free(mm);
}

int flamingo_i8_matmul_is_packed(const flamingo_i8_matmul *mm) { return mm->packed; }

// s32 (m, n) = xq (m, k) x weights.
static int execute(flamingo_i8_matmul *mm, const int8_t *xq, size_t m, int32_t *s32, int threads, char *error,
                   size_t size) {
    dnnl_stream_t stream = thread_stream(error, size);
    if (!stream) return -1;
    int transient;
    size_t scratchpad_size = 0;
    dnnl_primitive_t p = primitive_for(mm, m, &transient, &scratchpad_size, error, size);
    if (!p) return -1;
    void *scratchpad = scratch(3, scratchpad_size > 0 ? scratchpad_size : 64);
    if (!scratchpad) {
        if (transient) dnnl_primitive_destroy(p);
        say(error, size, "int8 matmul: out of memory for a %zu-byte scratchpad", scratchpad_size);
        return -1;
    }
    dnnl_memory_desc_t src, dst;
    dnnl_dims_t src_dims = {(dnnl_dim_t)m, (dnnl_dim_t)mm->k}, dst_dims = {(dnnl_dim_t)m, (dnnl_dim_t)mm->n};
    dnnl_memory_t src_memory = NULL, dst_memory = NULL, pad_memory = NULL;
    dnnl_memory_desc_t pad;
    dnnl_dims_t pad_dims = {(dnnl_dim_t)(scratchpad_size > 0 ? scratchpad_size : 1)};
    dnnl_status_t s = dnnl_memory_desc_init_by_tag(&src, 2, src_dims, dnnl_s8, dnnl_ab);
    if (s == dnnl_success) s = dnnl_memory_desc_init_by_tag(&dst, 2, dst_dims, dnnl_s32, dnnl_ab);
    if (s == dnnl_success) s = dnnl_memory_create(&src_memory, &src, engine, (void *)xq);
    if (s == dnnl_success) s = dnnl_memory_create(&dst_memory, &dst, engine, s32);
    if (s == dnnl_success) s = dnnl_memory_desc_init_by_tag(&pad, 1, pad_dims, dnnl_u8, dnnl_a);
    if (s == dnnl_success) s = dnnl_memory_create(&pad_memory, &pad, engine, scratchpad);
    if (s == dnnl_success) {
        if (threads > 0) omp_set_num_threads(threads);
        dnnl_exec_arg_t args[4] = {{DNNL_ARG_SRC, src_memory}, {DNNL_ARG_WEIGHTS, mm->weights}, {DNNL_ARG_DST, dst_memory},
                                   {DNNL_ARG_SCRATCHPAD, pad_memory}};
        s = dnnl_primitive_execute(p, stream, 4, args);
        if (s == dnnl_success) s = dnnl_stream_wait(stream);
    }
    if (src_memory) dnnl_memory_destroy(src_memory);
    if (dst_memory) dnnl_memory_destroy(dst_memory);
    if (pad_memory) dnnl_memory_destroy(pad_memory);
    if (transient) dnnl_primitive_destroy(p);
    if (s != dnnl_success) {
        say(error, size, "oneDNN: int8 matmul of %zu rows failed (status %d)", m, (int)s);
        return -1;
    }
    return 0;
}

int flamingo_i8_matmul_run_s32(flamingo_i8_matmul *mm, const int8_t *xq, size_t m, int32_t *s32, int threads,
                               char *error, size_t error_size) {
    if (m == 0) return 0;
    return execute(mm, xq, m, s32, threads, error, error_size);
}

// ---- input quantization and rescaling ----

static void quantize_row_scalar(const float *x, size_t k, int8_t *q, float *scale) {
    float amax = 0;
    for (size_t j = 0; j < k; j++) amax = fmaxf(amax, fabsf(x[j]));
    float s = amax / 127.0f, inverse = amax > 0 ? 127.0f / amax : 0;
    *scale = s;
    for (size_t j = 0; j < k; j++) {
        float v = nearbyintf(x[j] * inverse);  // the current rounding mode: to nearest, ties to even
        q[j] = (int8_t)(v > 127 ? 127 : v < -127 ? -127 : v);
    }
}

#if defined(__x86_64__)
__attribute__((target("avx512f,avx512bw"))) static void quantize_row_avx512(const float *x, size_t k, int8_t *q,
                                                                            float *scale) {
    __m512 m = _mm512_setzero_ps();
    size_t j = 0;
    for (; j + 16 <= k; j += 16) m = _mm512_max_ps(m, _mm512_abs_ps(_mm512_loadu_ps(x + j)));
    float amax = _mm512_reduce_max_ps(m);
    for (; j < k; j++) amax = fmaxf(amax, fabsf(x[j]));
    float inverse = amax > 0 ? 127.0f / amax : 0;
    *scale = amax / 127.0f;
    __m512 inv = _mm512_set1_ps(inverse);
    __m512i lo = _mm512_set1_epi32(-127), hi = _mm512_set1_epi32(127);
    for (j = 0; j + 16 <= k; j += 16) {
        __m512i v = _mm512_cvtps_epi32(_mm512_mul_ps(_mm512_loadu_ps(x + j), inv));  // MXCSR: ties to even
        v = _mm512_min_epi32(_mm512_max_epi32(v, lo), hi);
        _mm_storeu_si128((__m128i *)(q + j), _mm512_cvtepi32_epi8(v));
    }
    for (; j < k; j++) {
        float v = nearbyintf(x[j] * inverse);
        q[j] = (int8_t)(v > 127 ? 127 : v < -127 ? -127 : v);
    }
}

__attribute__((target("avx2,fma"))) static void quantize_row_avx2(const float *x, size_t k, int8_t *q, float *scale) {
    const __m256 sign = _mm256_set1_ps(-0.0f);
    __m256 m = _mm256_setzero_ps();
    size_t j = 0;
    for (; j + 8 <= k; j += 8) m = _mm256_max_ps(m, _mm256_andnot_ps(sign, _mm256_loadu_ps(x + j)));
    float lanes[8];
    _mm256_storeu_ps(lanes, m);
    float amax = 0;
    for (int i = 0; i < 8; i++) amax = fmaxf(amax, lanes[i]);
    for (; j < k; j++) amax = fmaxf(amax, fabsf(x[j]));
    float inverse = amax > 0 ? 127.0f / amax : 0;
    *scale = amax / 127.0f;
    __m256 inv = _mm256_set1_ps(inverse);
    __m256i lo = _mm256_set1_epi32(-127), hi = _mm256_set1_epi32(127);
    for (j = 0; j + 8 <= k; j += 8) {
        __m256i v = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(x + j), inv));
        v = _mm256_min_epi32(_mm256_max_epi32(v, lo), hi);
        int32_t ints[8];
        _mm256_storeu_si256((__m256i *)ints, v);
        for (int i = 0; i < 8; i++) q[j + i] = (int8_t)ints[i];
    }
    for (; j < k; j++) {
        float v = nearbyintf(x[j] * inverse);
        q[j] = (int8_t)(v > 127 ? 127 : v < -127 ? -127 : v);
    }
}

// y[r] = beta * y[r] + a * ws[r] * s32[r] for one output row of n values.
__attribute__((target("avx512f"))) static void rescale_row_avx512(const int32_t *s32, const float *ws, float a, float beta,
                                                                 float *y, size_t n) {
    __m512 av = _mm512_set1_ps(a), bv = _mm512_set1_ps(beta);
    size_t r = 0;
    if (beta == 0) {
        for (; r + 16 <= n; r += 16) {
            __m512 p = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_loadu_si512(s32 + r)), _mm512_loadu_ps(ws + r));
            _mm512_storeu_ps(y + r, _mm512_mul_ps(p, av));
        }
        for (; r < n; r++) y[r] = a * ws[r] * (float)s32[r];
    } else {
        for (; r + 16 <= n; r += 16) {
            __m512 p = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_loadu_si512(s32 + r)), _mm512_loadu_ps(ws + r));
            _mm512_storeu_ps(y + r, _mm512_fmadd_ps(p, av, _mm512_mul_ps(bv, _mm512_loadu_ps(y + r))));
        }
        for (; r < n; r++) y[r] = beta * y[r] + a * ws[r] * (float)s32[r];
    }
}

__attribute__((target("avx2,fma"))) static void rescale_row_avx2(const int32_t *s32, const float *ws, float a, float beta,
                                                                float *y, size_t n) {
    __m256 av = _mm256_set1_ps(a), bv = _mm256_set1_ps(beta);
    size_t r = 0;
    if (beta == 0) {
        for (; r + 8 <= n; r += 8) {
            __m256 p = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_loadu_si256((const __m256i *)(s32 + r))), _mm256_loadu_ps(ws + r));
            _mm256_storeu_ps(y + r, _mm256_mul_ps(p, av));
        }
        for (; r < n; r++) y[r] = a * ws[r] * (float)s32[r];
    } else {
        for (; r + 8 <= n; r += 8) {
            __m256 p = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_loadu_si256((const __m256i *)(s32 + r))), _mm256_loadu_ps(ws + r));
            _mm256_storeu_ps(y + r, _mm256_fmadd_ps(p, av, _mm256_mul_ps(bv, _mm256_loadu_ps(y + r))));
        }
        for (; r < n; r++) y[r] = beta * y[r] + a * ws[r] * (float)s32[r];
    }
}
#endif

static void rescale_row_scalar(const int32_t *s32, const float *ws, float a, float beta, float *y, size_t n) {
    if (beta == 0) {
        for (size_t r = 0; r < n; r++) y[r] = a * ws[r] * (float)s32[r];
    } else {
        for (size_t r = 0; r < n; r++) y[r] = beta * y[r] + a * ws[r] * (float)s32[r];
    }
}

typedef void (*quantize_fn)(const float *, size_t, int8_t *, float *);
typedef void (*rescale_fn)(const int32_t *, const float *, float, float, float *, size_t);

static quantize_fn quantize_row = quantize_row_scalar;
static rescale_fn rescale_row = rescale_row_scalar;
static pthread_once_t isa_once = PTHREAD_ONCE_INIT;

static void pick_isa(void) {
#if defined(__x86_64__)
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw")) {
        quantize_row = quantize_row_avx512;
        rescale_row = rescale_row_avx512;
    } else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
        quantize_row = quantize_row_avx2;
        rescale_row = rescale_row_avx2;
    }
#endif
}

void flamingo_i8_quantize_activations(const float *x, size_t m, size_t k, int8_t *q, float *scales) {
    pthread_once(&isa_once, pick_isa);
    for (size_t i = 0; i < m; i++) quantize_row(x + i * k, k, q + i * k, scales + i);
}

void flamingo_i8_rescale_rows(const int32_t *s32, size_t m, size_t n, const float *xs, const float *ws, float beta,
                              float *y, size_t ldy) {
    pthread_once(&isa_once, pick_isa);
    for (size_t i = 0; i < m; i++) rescale_row(s32 + i * n, ws, xs[i], beta, y + i * ldy, n);
}

void *flamingo_i8_matmul_scratch(int index, size_t size) {
    if (index < 0 || index > 2) return NULL;
    return scratch(index, size);
}

void flamingo_i8_matmul_isa(char *text, size_t size) {
    if (!the_engine(text, size)) return;
    dnnl_primitive_desc_t pd;
    dnnl_memory_desc_t any;
    dnnl_dims_t dims = {256, 256};
    dnnl_status_t s = dnnl_memory_desc_init_by_tag(&any, 2, dims, dnnl_s8, dnnl_format_tag_any);
    if (s == dnnl_success) s = matmul_desc(&pd, 256, 256, 256, &any);
    if (s != dnnl_success) {
        say(text, size, "oneDNN: no int8 matmul (status %d)", (int)s);
        return;
    }
    const char *impl = NULL;
    dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &impl);
    say(text, size, "%s", impl ? impl : "unknown");
    dnnl_primitive_desc_destroy(pd);
}
