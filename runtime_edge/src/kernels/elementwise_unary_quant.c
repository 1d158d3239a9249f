/* Quantized elementwise unary ops in TFLite's integer arithmetic.
 *  - ABS (int8, int16 with zero point 0): |x - input zero point|, requantized by input_scale / output_scale only
 *    when the two scales differ, plus the output zero point.
 *  - RSQRT (int8): 1 / sqrt(x - zero point) from TFLite's fixed-point inverse square root (five Newton-Raphson
 *    steps in Q3.28), requantized by 1 / (sqrt(input_scale) output_scale). With only 256 inputs the results are
 *    tabulated at prepare. x at the zero point gives the largest output; TFLite rejects x below it at run
 *    time, here it also gives the largest output. */
#include <math.h>

#include "../kernel.h"
#include "quant.h"
#include "unary_driver.h"

typedef struct unary_params {
  ep_unary_plan plan;
  int32_t in_zp, out_zp, mult, qmin, qmax;
  int shift, rescale;
  int8_t table[256]; /* RSQRT */
} unary_params;
_Static_assert(offsetof(unary_params, plan) == 0, "ep_unary_eval reads the plan at node->user_data");

static inline int32_t abs_one(const unary_params *p, int32_t x) {
  int32_t v = x - p->in_zp;
  v = v < 0 ? -v : v;
  if (p->rescale) v = ep_mul_by_quantized_multiplier(v, p->mult, p->shift);
  return ep_clamp_i32(v + p->out_zp, p->qmin, p->qmax);
}

static void abs_s8(const void *pin, void *pout, int64_t n, const void *params) {
  const int8_t *in = pin;
  int8_t *out = pout;
  for (int64_t i = 0; i < n; i++) out[i] = (int8_t)abs_one(params, in[i]);
}

static void abs_s16(const void *pin, void *pout, int64_t n, const void *params) {
  const int16_t *in = pin;
  int16_t *out = pout;
  for (int64_t i = 0; i < n; i++) out[i] = (int16_t)abs_one(params, in[i]);
}

static void rsqrt_table(unary_params *p) {
  for (int32_t v = -128; v <= 127; v++) {
    int32_t x = v - p->in_zp, out = 127;
    if (x > 0) {
      int32_t m;
      int sh;
      ep_inv_sqrt_multiplier(x, &m, &sh);
      int32_t data = ep_mul_by_quantized_multiplier(1, m, sh + 20);
      out = ep_clamp_i32(ep_mul_by_quantized_multiplier(data, p->mult, p->shift - 20) + p->out_zp, -128, 127);
    }
    p->table[(uint8_t)(int8_t)v] = (int8_t)out;
  }
}

static void table_s8(const void *pin, void *pout, int64_t n, const void *params) {
  const uint8_t *in = pin;
  int8_t *out = pout;
  const unary_params *p = params;
  for (int64_t i = 0; i < n; i++) out[i] = p->table[in[i]];
}

static ep_status prepare(ep_context *ctx, ep_node *node) {
  ep_tensor *in = ep_input(ctx, node, 0);
  ep_status st = ep_unary_prepare(ctx, node, in ? in->type : EP_INT8);
  if (st != EP_OK) return st;
  ep_tensor *out = ep_output(ctx, node, 0);
  if ((st = ep_require_per_tensor_quant(ctx, node, in)) != EP_OK) return st;
  if ((st = ep_require_per_tensor_quant(ctx, node, out)) != EP_OK) return st;
  unary_params *p = ep_alloc_persistent(ctx, sizeof *p);
  if (!p) return EP_ERROR_MEMORY;
  p->in_zp = ep_zero_point(in);
  p->out_zp = ep_zero_point(out);
  if (in->type == EP_INT16 && (p->in_zp || p->out_zp))
    return ep_kernel_fail(ctx, node, EP_ERROR_MODEL, "int16 tensors must have zero point 0");
  ep_quant_limits(in->type, &p->qmin, &p->qmax);
  if (node->builtin_code == EP_OP_RSQRT) {
    ep_quantize_multiplier(1.0 / (sqrt((double)ep_scale(in)) * ep_scale(out)), &p->mult, &p->shift);
    rsqrt_table(p);
    p->plan.row = table_s8;
  } else {
    p->rescale = ep_scale(in) != ep_scale(out);
    ep_quantize_multiplier((double)ep_scale(in) / ep_scale(out), &p->mult, &p->shift);
    p->plan.row = in->type == EP_INT8 ? abs_s8 : abs_s16;
  }
  p->plan.es_in = p->plan.es_out = in->type == EP_INT8 ? 1 : 2;
  p->plan.params = p;
  node->user_data = p;
  return EP_OK;
}

const ep_kernel ep_kernels_elementwise_unary_quant[] = {
    {EP_OP_ABS, EP_INT8, EP_ISA_REF, EP_OPTIONS_NONE, "abs_s8_ref", prepare, ep_unary_eval},
    {EP_OP_ABS, EP_INT16, EP_ISA_REF, EP_OPTIONS_NONE, "abs_s16_ref", prepare, ep_unary_eval},
    {EP_OP_RSQRT, EP_INT8, EP_ISA_REF, EP_OPTIONS_NONE, "rsqrt_s8_ref", prepare, ep_unary_eval},
    EP_KERNEL_END,
};
