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
