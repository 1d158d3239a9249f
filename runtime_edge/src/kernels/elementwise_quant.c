/* Quantized broadcasting binary ops on int8 and int16 (zero point 0), in TFLite's integer arithmetic.
 *
 * ADD/SUB bring both inputs to a common scale (twice the larger input scale) with 20 (int8) or 15 (int16)
 * bits of headroom, add or subtract, and requantize to the output; MUL multiplies the offset inputs and
 * requantizes by s1*s2/s_out. int16 ADD/SUB support the general-scale mode (pot_scale_int16 = false) that
 * the converter emits; the power-of-two-scale mode is rejected with a clear error. SQUARED_DIFFERENCE (int8)
 * rescales like ADD with 7 bits of headroom and requantizes the squared difference. MAXIMUM / MINIMUM compare
 * the raw integers, as TFLite does (the quantizer gives inputs and output one set of parameters). PRELU (int8) requantizes x >= 0 by
 * s_in / s_out and x < 0 by (x - zp) (alpha - zp_alpha) s_in s_alpha / s_out. */
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
_Static_assert(offsetof(quant_binary, plan) == 0, "ep_binary_eval reads the plan at node->user_data");

/* The requantized sum (sign = +1) or difference (sign = -1) of one pair, as TFLite's AddElementwise. */
static inline int32_t add_one(const quant_binary *q, int32_t x, int32_t y, int sign) {
  int32_t a = ep_shl32(q->in1_offset + x, q->left_shift);
  int32_t b = ep_shl32(q->in2_offset + y, q->left_shift);
  a = ep_mul_by_quantized_multiplier(a, q->in1_mult, q->in1_shift);
  b = ep_mul_by_quantized_multiplier(b, q->in2_mult, q->in2_shift);
  int32_t raw = ep_mul_by_quantized_multiplier(sign > 0 ? a + b : a - b, q->out_mult, q->out_shift) + q->out_offset;
  return ep_clamp_i32(raw, q->lo, q->hi);
}

static inline int32_t sqdiff_one(const quant_binary *q, int32_t x, int32_t y) {
  int32_t a = ep_mul_by_quantized_multiplier(ep_shl32(q->in1_offset + x, q->left_shift), q->in1_mult, q->in1_shift);
  int32_t b = ep_mul_by_quantized_multiplier(ep_shl32(q->in2_offset + y, q->left_shift), q->in2_mult, q->in2_shift);
  int32_t raw = ep_mul_by_quantized_multiplier((a - b) * (a - b), q->out_mult, q->out_shift) + q->out_offset;
  return ep_clamp_i32(raw, q->lo, q->hi);
}

/* The second input is alpha; in1_mult/in1_shift scale the identity branch, out_mult/out_shift the alpha one. */
static inline int32_t prelu_one(const quant_binary *q, int32_t x, int32_t alpha) {
  int32_t v = q->in1_offset + x;
  v = v >= 0 ? ep_mul_by_quantized_multiplier(v, q->in1_mult, q->in1_shift)
             : ep_mul_by_quantized_multiplier(v * (q->in2_offset + alpha), q->out_mult, q->out_shift);
  return ep_clamp_i32(v + q->out_offset, q->lo, q->hi);
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
    (void)q; /* MAXIMUM / MINIMUM need no parameters */                                                  \
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
ROW(sqdiff_s8, int8_t, sqdiff_one(q, x, y))
ROW(prelu_s8, int8_t, prelu_one(q, x, y))
ROW(max_s8, int8_t, x > y ? x : y)
ROW(min_s8, int8_t, x < y ? x : y)
ROW(max_s16, int16_t, x > y ? x : y)
ROW(min_s16, int16_t, x < y ? x : y)

/* Requantization constants of ADD / SUB / SQUARED_DIFFERENCE: both inputs to twice the larger input scale with
 * `left_shift` bits of headroom; the output multiplier divides that common scale (squared when `square`). */
static void common_scale(quant_binary *q, double s1, double s2, double so, int left_shift, int square) {
  q->left_shift = left_shift;
  double twice_max = 2.0 * (s1 > s2 ? s1 : s2);
  ep_quantize_multiplier(s1 / twice_max, &q->in1_mult, &q->in1_shift);
  ep_quantize_multiplier(s2 / twice_max, &q->in2_mult, &q->in2_shift);
  double unit = (double)(1 << left_shift);
  double real = square ? twice_max * twice_max / (unit * unit * so) : twice_max / (unit * so);
  ep_quantize_multiplier(real, &q->out_mult, &q->out_shift);
}

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
  if (s16 && (op == EP_OP_ADD || op == EP_OP_SUB) && ep_opt_bool(node, OPT_POT_SCALE_INT16, 1))
    return ep_kernel_fail(ctx, node, EP_ERROR_UNSUPPORTED,
                          "int16 with pot_scale_int16 = true (power-of-two scales) is not supported");
  if (s16 && (ep_zero_point(a) || ep_zero_point(b) || ep_zero_point(out)))
    return ep_kernel_fail(ctx, node, EP_ERROR_MODEL, "int16 tensors must have zero point 0");
  q->in1_offset = -ep_zero_point(a);
  q->in2_offset = -ep_zero_point(b);
  q->out_offset = ep_zero_point(out);
  int32_t qmin, qmax;
  ep_quant_limits(out->type, &qmin, &qmax);
  int act = op == EP_OP_ADD || op == EP_OP_SUB || op == EP_OP_MUL ? ep_opt_i8(node, OPT_ACTIVATION, EP_ACT_NONE)
                                                                    : EP_ACT_NONE;
  ep_activation_range_quant(act, ep_scale(out), q->out_offset, qmin, qmax, &q->lo, &q->hi);
  double s1 = ep_scale(a), s2 = ep_scale(b), so = ep_scale(out);
  switch (op) {
    case EP_OP_MUL:
      ep_quantize_multiplier(s1 * s2 / so, &q->out_mult, &q->out_shift);
      q->plan.row = s16 ? mul_s16 : mul_s8;
      break;
    case EP_OP_ADD:
    case EP_OP_SUB:
      common_scale(q, s1, s2, so, s16 ? 15 : 20, 0);
      if (op == EP_OP_ADD) q->plan.row = s16 ? add_s16 : add_s8;
      else q->plan.row = s16 ? sub_s16 : sub_s8;
      break;
    case EP_OP_SQUARED_DIFFERENCE:
      common_scale(q, s1, s2, so, 7, 1);
      q->plan.row = sqdiff_s8;
      break;
    case EP_OP_PRELU:
      ep_quantize_multiplier(s1 / so, &q->in1_mult, &q->in1_shift);
      ep_quantize_multiplier(s1 * s2 / so, &q->out_mult, &q->out_shift);
      q->plan.row = prelu_s8;
      break;
    default: /* MAXIMUM, MINIMUM */
      if (op == EP_OP_MAXIMUM) q->plan.row = s16 ? max_s16 : max_s8;
      else q->plan.row = s16 ? min_s16 : min_s8;
      break;
  }
  q->plan.es_a = q->plan.es_b = q->plan.es_out = s16 ? 2 : 1;
  q->plan.params = q;
  node->user_data = q;
  if (op == EP_OP_PRELU && !ep_same_shape(ep_output(ctx, node, 0), a))
    return ep_kernel_fail(ctx, node, EP_ERROR_MODEL, "alpha '%s' must broadcast to the input's shape", b->name);
  return EP_OK;
}

const ep_kernel ep_kernels_elementwise_quant[] = {
    {EP_OP_ADD, EP_INT8, EP_ISA_REF, EP_OPTIONS_AddOptions, "add_s8_ref", prepare, ep_binary_eval},
    {EP_OP_ADD, EP_INT16, EP_ISA_REF, EP_OPTIONS_AddOptions, "add_s16_ref", prepare, ep_binary_eval},
    {EP_OP_SUB, EP_INT8, EP_ISA_REF, EP_OPTIONS_SubOptions, "sub_s8_ref", prepare, ep_binary_eval},
    {EP_OP_SUB, EP_INT16, EP_ISA_REF, EP_OPTIONS_SubOptions, "sub_s16_ref", prepare, ep_binary_eval},
    {EP_OP_MUL, EP_INT8, EP_ISA_REF, EP_OPTIONS_MulOptions, "mul_s8_ref", prepare, ep_binary_eval},
    {EP_OP_MUL, EP_INT16, EP_ISA_REF, EP_OPTIONS_MulOptions, "mul_s16_ref", prepare, ep_binary_eval},
    {EP_OP_SQUARED_DIFFERENCE, EP_INT8, EP_ISA_REF, EP_OPTIONS_NONE, "squared_difference_s8_ref", prepare,
     ep_binary_eval},
    {EP_OP_PRELU, EP_INT8, EP_ISA_REF, EP_OPTIONS_NONE, "prelu_s8_ref", prepare, ep_binary_eval},
    {EP_OP_MAXIMUM, EP_INT8, EP_ISA_REF, EP_OPTIONS_NONE, "maximum_s8_ref", prepare, ep_binary_eval},
    {EP_OP_MAXIMUM, EP_INT16, EP_ISA_REF, EP_OPTIONS_NONE, "maximum_s16_ref", prepare, ep_binary_eval},
    {EP_OP_MINIMUM, EP_INT8, EP_ISA_REF, EP_OPTIONS_NONE, "minimum_s8_ref", prepare, ep_binary_eval},
    {EP_OP_MINIMUM, EP_INT16, EP_ISA_REF, EP_OPTIONS_NONE, "minimum_s16_ref", prepare, ep_binary_eval},
    EP_KERNEL_END,
};
