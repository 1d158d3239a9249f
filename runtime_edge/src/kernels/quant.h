/* TFLite's integer requantization arithmetic, shared by every quantized kernel.
 *
 * A real multiplier m is stored as a Q0.31 fixed-point significand and a power-of-two exponent
 * (m = significand * 2^(shift - 31)), as TFLite's QuantizeMultiplier does. Kernels apply it with
 * ep_mul_by_quantized_multiplier: a saturating rounding doubling high multiply followed by a rounding
 * right shift, the "double rounding" of TFLite's default (non TFLITE_SINGLE_ROUNDING) build, so that results
 * equal TFLite's bit for bit. Shifts are done on unsigned values where C leaves signed shifts undefined. */
#ifndef EP_KERNELS_QUANT_H
#define EP_KERNELS_QUANT_H

#include <stdint.h>

#include "../kernel.h"

/* m -> (significand, shift); m == 0 and |m| < 2^-31 give (0, 0), m >= 2^30 saturates to (INT32_MAX, 30). */
void ep_quantize_multiplier(double m, int32_t *significand, int *shift);

/* The clamp range of a fused activation on a quantized output of type [qmin, qmax]. */
void ep_activation_range_quant(int activation, float scale, int32_t zero_point, int32_t qmin, int32_t qmax,
                               int32_t *lo, int32_t *hi);

/* gemmlowp SaturatingRoundingDoublingHighMul: (a * b * 2) >> 32 rounded to nearest, saturating. */
static inline int32_t ep_srdhm(int32_t a, int32_t b) {
  if (a == INT32_MIN && b == INT32_MIN) return INT32_MAX;
  int64_t ab = (int64_t)a * (int64_t)b;
  int64_t nudge = ab >= 0 ? (1 << 30) : (1 - (1 << 30));
  return (int32_t)((ab + nudge) / ((int64_t)1 << 31));
}

/* gemmlowp RoundingDivideByPOT: x / 2^exponent rounded to nearest, ties away from zero. */
static inline int32_t ep_rdbpot(int32_t x, int exponent) {
  int32_t mask = (int32_t)(((int64_t)1 << exponent) - 1);
  int32_t remainder = x & mask;
  int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
  return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

/* Sums of an accumulator and a bias with TFLite's wrap-around: real models never overflow, a hostile bias must
 * not make the addition undefined. */
static inline int32_t ep_add_wrap32(int32_t a, int32_t b) { return (int32_t)((uint32_t)a + (uint32_t)b); }
static inline int64_t ep_add_wrap64(int64_t a, int64_t b) { return (int64_t)((uint64_t)a + (uint64_t)b); }

/* x * 2^left with TFLite's wrap-around on overflow (the models never overflow; UBSan must stay quiet). */
static inline int32_t ep_shl32(int32_t x, int left) { return (int32_t)((uint32_t)x << left); }

/* TFLite MultiplyByQuantizedMultiplier(int32 x, ...). */
static inline int32_t ep_mul_by_quantized_multiplier(int32_t x, int32_t significand, int shift) {
  int left = shift > 0 ? shift : 0, right = shift > 0 ? 0 : -shift;
  return ep_rdbpot(ep_srdhm(ep_shl32(x, left), significand), right);
}

/* TFLite MultiplyByQuantizedMultiplier(int64 x, ...) of the 16x8 convolutions (64-bit accumulators): the
 * significand is reduced to 16 bits and applied with one rounding shift. TFLite requires |x| < 2^47; x is
 * clamped to that range so that a hostile bias cannot overflow the product. */
static inline int32_t ep_mul_by_quantized_multiplier64(int64_t x, int32_t significand, int shift) {
  const int64_t limit = (int64_t)1 << 47;
  x = x < -limit ? -limit : (x >= limit ? limit - 1 : x);
  int32_t reduced = significand < 0x7FFF0000 ? (significand + (1 << 15)) >> 16 : 0x7FFF;
  int total_shift = 15 - shift < 1 ? 1 : 15 - shift; /* real models have shift < 8 */
  int64_t r = x * (int64_t)reduced + ((int64_t)1 << (total_shift - 1));
  return (int32_t)(r >> total_shift); /* arithmetic shift: gcc/clang define it for negative values */
}

/* The 16x8 FULLY_CONNECTED requantization of ai-edge-litert: one rounding shift of the full product
 * x * significand (not reduced to 16 bits). */
static inline int32_t ep_mul_by_quantized_multiplier_full64(int64_t x, int32_t significand, int shift) {
  int total_shift = 31 - shift;
#if defined(__SIZEOF_INT128__)
  __int128 r = (__int128)x * significand + ((__int128)1 << (total_shift - 1));
  return (int32_t)(r >> total_shift);
#else
  /* Without 128-bit integers split x so the partial products stay within 64 bits. */
  int64_t hi = x >> 16, lo = x & 0xFFFF;
  int64_t r = hi * significand + ((lo * significand + ((int64_t)1 << (total_shift - 1))) >> 16);
  return (int32_t)(r >> (total_shift - 16));
#endif
}

/* Leading zero bits of x (32 for 0). */
static inline int ep_clz32(uint32_t x) {
  int n = 0;
  for (uint32_t bit = 0x80000000u; bit && !(x & bit); bit >>= 1) n++;
  return n;
}

static inline int32_t ep_clamp_i32(int32_t v, int32_t lo, int32_t hi) { return v < lo ? lo : (v > hi ? hi : v); }

static inline int32_t ep_zero_point(const ep_tensor *t) { return t->zero_point ? (int32_t)t->zero_point[0] : 0; }
static inline float ep_scale(const ep_tensor *t) { return t->scale ? t->scale[0] : 0.0f; }

/* The [min, max] of a quantized integer dtype (int8, uint8, int16). */
static inline void ep_quant_limits(int32_t dtype, int32_t *qmin, int32_t *qmax) {
  switch (dtype) {
    case EP_INT8: *qmin = -128; *qmax = 127; break;
    case EP_UINT8: *qmin = 0; *qmax = 255; break;
    case EP_INT16: *qmin = -32768; *qmax = 32767; break;
    default: *qmin = INT32_MIN; *qmax = INT32_MAX; break;
  }
}

/* TFLite's GetInvSqrtQuantizedMultiplierExp (with a left-positive shift): 1 / sqrt(input) for input > 1 as a
 * significand and shift for ep_mul_by_quantized_multiplier, from five Newton-Raphson steps in Q3.28; inputs
 * 0 and 1 give (INT32_MAX, 0). */
void ep_inv_sqrt_multiplier(int32_t input, int32_t *significand, int *shift);

/* Fails unless t carries per-tensor quantization parameters with a positive scale. */
ep_status ep_require_per_tensor_quant(ep_context *ctx, const ep_node *node, const ep_tensor *t);

#endif
