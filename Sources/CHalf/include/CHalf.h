#ifndef FLAMINGO_CHALF_H
#define FLAMINGO_CHALF_H

#include <stddef.h>
#include <stdint.h>

/// IEEE half -> float32 for n values: F16C (vcvtph2ps, 8 at a time) when the CPU has it, else scalar.
void flamingo_f16_to_f32(const uint16_t *src, float *dst, size_t n);

/// bfloat16 -> float32 for n values (the high half of a float32).
void flamingo_bf16_to_f32(const uint16_t *src, float *dst, size_t n);

/// y[i * ldy + r] = beta * y[i * ldy + r] + dot(W[r, :], x[i * k ..< (i + 1) * k]) for rows r in [r0, r1) of
/// a (rows, k) row-major F16 (or BF16 when bf16 != 0) matrix W and m input rows x: the matrix-vector
/// product of decoding, reading each 16-bit weight once (AVX2/FMA/F16C when the CPU has them).
void flamingo_half_gemv(const uint16_t *w, int bf16, size_t k, const float *x, size_t m, float *y, size_t ldy,
                        size_t r0, size_t r1, float beta);

/// Int8 weights at rest, W[r, j] = scales[r] * w[r * k + j] with w in [-127, 127]:
/// y[i * ldy + r] = beta * y[i * ldy + r] + dot(W[r, :], x[i * k ..< (i + 1) * k]) for rows r in [r0, r1)
/// and m input rows (decoding), each weight byte read once. With AVX2 and k a multiple of 32 (m <= 8)
/// the input rows are quantized to int8 in blocks of 32 (flamingo_i8_quantize_blocks) and each block's
/// products are summed exactly in int32; otherwise the weights are widened to float in registers.
void flamingo_i8_gemv(const int8_t *w, const float *scales, size_t k, const float *x, size_t m, float *y, size_t ldy,
                      size_t r0, size_t r1, float beta);

/// Rows [r0, r1) of an int8 matrix as float32 (scaled) into dst, (r1 - r0) * k values.
void flamingo_i8_widen(const int8_t *w, const float *scales, size_t k, size_t r0, size_t r1, float *dst);

/// The input quantization of flamingo_i8_gemv: n (a multiple of 32) values in blocks of 32, each
/// with scales[b] = max|block| / 127 and q = round(x / scale) in [-127, 127] (an all-zero block: 0).
void flamingo_i8_quantize_blocks(const float *x, size_t n, int8_t *q, float *scales);

/// Symmetric per-row quantization of a (rows, k) float32 matrix: scales[r] = max|W[r, :]| / 127,
/// q = round(W / scale) (half away from zero), clamped to [-127, 127]; an all-zero row gets scale 0.
void flamingo_i8_quantize_rows(const float *w, size_t rows, size_t k, int8_t *q, float *scales);

/// 4-bit weights at rest ("q4_block32", docs/QUANTIZATION.md): rows of k values (k a multiple of 32) in
/// blocks of 32, each with an F16 scale d, value = d * (q - 8), q in [0, 15]; a row is k / 2 bytes, each
/// block's 16 bytes holding its values 0-15 in the low nibbles and 16-31 in the high ones. Quantizing:
/// d = (the block's value of largest magnitude, with its sign) / -8, rounded to F16, then
/// q = clamp(floor(x / d + 8.5), 0, 15) (an all-zero block: d = 0, q = 8).
void flamingo_q4_quantize_rows(const float *w, size_t rows, size_t k, uint8_t *packed, uint16_t *scales);

/// Rows [r0, r1) of a 4-bit matrix as float32 into dst, (r1 - r0) * k values.
void flamingo_q4_widen(const uint8_t *w, const uint16_t *scales, size_t k, size_t r0, size_t r1, float *dst);

/// y[i * ldy + r] = beta * y[i * ldy + r] + dot(W[r, :], x[i * k ..< (i + 1) * k]) for rows r in [r0, r1) of
/// a 4-bit matrix and m input rows (decoding). With AVX2 (m <= 8) the input rows are quantized to int8
/// in blocks of 32 (flamingo_i8_quantize_blocks) and each block's products summed exactly in int32;
/// otherwise a float loop.
void flamingo_q4_gemv(const uint8_t *w, const uint16_t *scales, size_t k, const float *x, size_t m, float *y,
                      size_t ldy, size_t r0, size_t r1, float beta);

#endif
