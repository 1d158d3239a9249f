/* Quantized broadcasting ADD, SUB and MUL on int8 and int16 (zero point 0), in TFLite's integer arithmetic.
 *
 * ADD/SUB bring both inputs to a common scale (twice the larger input scale) with 20 (int8) or 15 (int16)
 * bits of headroom, add or subtract, and requantize to the output; MUL multiplies the offset inputs and
 * requantizes by s1*s2/s_out. int16 ADD/SUB support the general-scale mode (pot_scale_int16 = false) that
 * the converter emits; the power-of-two-scale mode is rejected with a clear error. */
#include "../kernel.h"
#include "binary_driver.h"
#include "quant.h"

/* AddOptions/SubOptions: fused activation, pot_scale_int16; MulOptions: fused activation. */
enum { OPT_ACTIVATION = 0, OPT_POT_SCALE_INT16 = 1 };

typedef struct quant_binary {
  ep_binary_plan plan;
  int32_t in1_offset, in2_offset, out_offset, lo, hi;
  int left_shift;
  int32_t in1_mult, in2_mult, out_mult;
  int in1_shift, in2_shift, out_shift;
} quant_binary;

/* The requantized sum (sign = +1) or difference (sign = -1) of one pair, as TFLite's AddElementwise. */
static inline int32_t add_one(const quant_binary *q, int32_t x, int32_t y, int sign) {
  int32_t a = ep_shl32(q->in1_offset + x, q->left_shift);
  int32_t b = ep_shl32(q->in2_offset + y, q->left_shift);
  a = ep_mul_by_quantized_multiplier(a, q->in1_mult, q->in1_shift);
  b = ep_mul_by_quantized_multiplier(b, q->in2_mult, q->in2_shift);
  int32_t raw = ep_mul_by_quantized_multiplier(sign > 0 ? a + b : a - b, q->out_mult, q->out_shift) + q->out_offset;
  return ep_clamp_i32(raw, q->lo, q->hi);
}

static inline int32_t mul_one(const quant_binary *q, int32_t x, int32_t y) {
  int32_t raw = ep_mul_by_quantized_multiplier((q->in1_offset + x) * (q->in2_offset + y), q->out_mult, q->out_shift);
  return ep_clamp_i32(raw + q->out_offset, q->lo, q->hi);
}

#define ROW(name, T, expr)                                                                               \
  static void name(const void *pa, int64_t sa, const void *pb, int64_t sb, void *po, int64_t n,         \
                   const void *params) {                                                                 \
    const T *A = pa, *B = pb;                                                                           \
    T *O = po;                                                                                           \
    const quant_binary *q = params;                                                                      \
    for (int64_t i = 0; i < n; i++) {                                                                    \
      int32_t x = A[i * sa], y = B[i * sb];                                                              \
      O[i] = (T)(expr);                                                                                  \
    }                                                                                                    \
  }

ROW(add_s8, int8_t, add_one(q, x, y, 1))
ROW(sub_s8, int8_t, add_one(q, x, y, -1))
ROW(mul_s8, int8_t, mul_one(q, x, y))
ROW(add_s16, int16_t, add_one(q, x, y, 1))
ROW(sub_s16, int16_t, add_one(q, x, y, -1))
ROW(mul_s16, int16_t, mul_one(q, x, y))

static ep_status prepare(ep_context *ctx, ep_node *node) {
  quant_binary *q = ep_alloc_persistent(ctx, sizeof *q);
  if (!q) return EP_ERROR_MEMORY;
  ep_status st = ep_binary_prepare(ctx, node, &q->plan);
  if (st != EP_OK) return st;
  ep_tensor *a = ep_input(ctx, node, 0), *b = ep_input(ctx, node, 1), *out = ep_output(ctx, node, 0);
  if ((st = ep_check_type(ctx, node, b, a->type, "second input")) != EP_OK) return st;
  if ((st = ep_check_type(ctx, node, out, a->type, "output")) != EP_OK) return st;
  const ep_tensor *ts[3] = {a, b, out};
  for (int i = 0; i < 3; i++)
    if ((st = ep_require_per_tensor_quant(ctx, node, ts[i])) != EP_OK) return st;
  int s16 = a->type == EP_INT16;
  int op = node->builtin_code;
  if (s16 && op != EP_OP_MUL && ep_opt_bool(node, OPT_POT_SCALE_INT16, 1))
    return ep_kernel_fail(ctx, node, EP_ERROR_UNSUPPORTED,
                          "int16 with pot_scale_int16 = true (power-of-two scales) is not supported");
  if (s16 && (ep_zero_point(a) || ep_zero_point(b) || ep_zero_point(out)))
    return ep_kernel_fail(ctx, node, EP_ERROR_MODEL, "int16 tensors must have zero point 0");
  q->in1_offset = -ep_zero_point(a);
  q->in2_offset = -ep_zero_point(b);
  q->out_offset = ep_zero_point(out);
  int32_t qmin, qmax;
  ep_quant_limits(out->type, &qmin, &qmax);
  ep_activation_range_quant(ep_opt_i8(node, OPT_ACTIVATION, EP_ACT_NONE), ep_scale(out), q->out_offset, qmin, qmax,
                            &q->lo, &q->hi);
  double s1 = ep_scale(a), s2 = ep_scale(b), so = ep_scale(out);
  if (op == EP_OP_MUL) {
    ep_quantize_multiplier(s1 * s2 / so, &q->out_mult, &q->out_shift);
    q->plan.row = s16 ? mul_s16 : mul_s8;
  } else {
    q->left_shift = s16 ? 15 : 20;
    double twice_max = 2.0 * (s1 > s2 ? s1 : s2);
    ep_quantize_multiplier(s1 / twice_max, &q->in1_mult, &q->in1_shift);
    ep_quantize_multiplier(s2 / twice_max, &q->in2_mult, &q->in2_shift);
    ep_quantize_multiplier(twice_max / ((double)(1 << q->left_shift) * so), &q->out_mult, &q->out_shift);
    if (op == EP_OP_ADD) q->plan.row = s16 ? add_s16 : add_s8;
    else q->plan.row = s16 ? sub_s16 : sub_s8;
  }
  q->plan.es_a = q->plan.es_b = q->plan.es_out = s16 ? 2 : 1;
  q->plan.params = q;
  node->user_data = q;
  return EP_OK;
}

static ep_status eval(ep_context *ctx, ep_node *node) {
  const quant_binary *q = node->user_data;
  ep_binary_run(ctx, node, &q->plan);
  return EP_OK;
}

const ep_kernel ep_kernels_elementwise_quant[] = {
    {EP_OP_ADD, EP_INT8, EP_ISA_REF, EP_OPTIONS_AddOptions, "add_s8_ref", prepare, eval},
    {EP_OP_ADD, EP_INT16, EP_ISA_REF, EP_OPTIONS_AddOptions, "add_s16_ref", prepare, eval},
    {EP_OP_SUB, EP_INT8, EP_ISA_REF, EP_OPTIONS_SubOptions, "sub_s8_ref", prepare, eval},
    {EP_OP_SUB, EP_INT16, EP_ISA_REF, EP_OPTIONS_SubOptions, "sub_s16_ref", prepare, eval},
    {EP_OP_MUL, EP_INT8, EP_ISA_REF, EP_OPTIONS_MulOptions, "mul_s8_ref", prepare, eval},
    {EP_OP_MUL, EP_INT16, EP_ISA_REF, EP_OPTIONS_MulOptions, "mul_s16_ref", prepare, eval},
    EP_KERNEL_END,
};
