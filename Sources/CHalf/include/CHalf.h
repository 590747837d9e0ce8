#ifndef FLAMINGO_CHALF_H
#define FLAMINGO_CHALF_H

#include <stddef.h>
#include <stdint.h>

/// IEEE half -> float32 for n values: F16C (vcvtph2ps, 8 at a time) when the CPU has it, else scalar.
void flamingo_f16_to_f32(const uint16_t *src, float *dst, size_t n);

/// bfloat16 -> float32 for n values (the high half of a float32).
void flamingo_bf16_to_f32(const uint16_t *src, float *dst, size_t n);

#endif
