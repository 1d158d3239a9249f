/* Requantization constants computed at prepare time (see quant.h). */
#include "quant.h"

#include <math.h>

void ep_quantize_multiplier(double m, int32_t *significand, int *shift) {
  if (m == 0.0) {
    *significand = 0;
    *shift = 0;
    return;
  }
  double q = frexp(m, shift);
  int64_t fixed = (int64_t)round(q * (double)(1ll << 31));
  if (fixed == (1ll << 31)) { /* rounding carried into the next power of two */
    fixed /= 2;
    ++*shift;
  }
  if (*shift < -31) { /* every bit would be shifted out: TFLite flushes such multipliers to zero */
    *shift = 0;
    fixed = 0;
  }
  if (*shift > 30) { /* beyond what the shifts can express (only corrupt scales get here): saturate, as TFLite */
    *shift = 30;
    fixed = INT32_MAX;
  }
  *significand = (int32_t)fixed;
}

void ep_activation_range_quant(int activation, float scale, int32_t zero_point, int32_t qmin, int32_t qmax,
                               int32_t *lo, int32_t *hi) {
  /* TFLite quantizes the clamp bounds in float: zero_point + round(bound / scale). */
#define EP_Q(f) (zero_point + (int32_t)roundf((f) / scale))
  *lo = qmin;
  *hi = qmax;
  if (activation == EP_ACT_RELU) {
    *lo = EP_Q(0.0f) > qmin ? EP_Q(0.0f) : qmin;
  } else if (activation == EP_ACT_RELU6) {
    *lo = EP_Q(0.0f) > qmin ? EP_Q(0.0f) : qmin;
    *hi = EP_Q(6.0f) < qmax ? EP_Q(6.0f) : qmax;
  } else if (activation == EP_ACT_RELU_N1_TO_1) {
    *lo = EP_Q(-1.0f) > qmin ? EP_Q(-1.0f) : qmin;
    *hi = EP_Q(1.0f) < qmax ? EP_Q(1.0f) : qmax;
  }
#undef EP_Q
}

ep_status ep_require_per_tensor_quant(ep_context *ctx, const ep_node *node, const ep_tensor *t) {
  if (!t->scale || t->quant_count < 1 || !(t->scale[0] > 0.0f))
    return ep_kernel_fail(ctx, node, EP_ERROR_MODEL, "%s tensor '%s' has no quantization scale",
                          ep_dtype_name(t->type), t->name);
  return EP_OK;
}

/* gemmlowp's SaturatingRoundingMultiplyByPOT. */
static int32_t mul_pot(int32_t x, int exponent) {
  if (exponent < 0) return ep_rdbpot(x, -exponent);
  int32_t threshold = (int32_t)((1u << (31 - exponent)) - 1);
  if (x > threshold) return INT32_MAX;
  if (x < -threshold) return INT32_MIN;
  return ep_shl32(x, exponent);
}

void ep_inv_sqrt_multiplier(int32_t input, int32_t *mult, int *shift) {
  if (input <= 1) {
    *mult = INT32_MAX;
    *shift = 0;
    return;
  }
  int sh = 11;
  while (input >= (1 << 29)) {
    input /= 4;
    sh++;
  }
  int pairs = (ep_clz32((uint32_t)input) - 1) / 2 - 1;
  sh -= pairs;
  input = ep_shl32(input, 2 * pairs);
  int32_t half_input = ep_rdbpot(input >> 1, 1), half_three = (1 << 28) + (1 << 27), x = 1 << 28; /* Q3.28 */
  for (int i = 0; i < 5; i++) { /* x <- 1.5 x - (input / 2) x^3 */
    int32_t x3 = mul_pot(ep_srdhm(ep_srdhm(x, x), x), 6);
    x = mul_pot((int32_t)((uint32_t)ep_srdhm(half_three, x) - (uint32_t)ep_srdhm(half_input, x3)), 3);
  }
  x = ep_srdhm(x, 1518500250); /* times sqrt(2) / 2 */
  if (sh < 0) {
    x = ep_shl32(x, -sh);
    sh = 0;
  }
  *mult = x;
  *shift = -sh;
}
