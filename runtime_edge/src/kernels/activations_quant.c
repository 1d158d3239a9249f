/* int8 activations in TFLite's arithmetic.
 *  - RELU, RELU6, RELU_N1_TO_1: requantize input -> output scale, clamp to the quantized bounds.
 *  - LEAKY_RELU: separate requantization multipliers for the identity and the alpha branch.
 *  - LOGISTIC, TANH, ELU, GELU: a 256-entry table built at prepare by dequantizing every int8 value, applying
 *    the function in float and requantizing, as TFLite's generic kernels do; eval is a table lookup.
 *  - HARD_SWISH: TFLite's 16-bit fixed-point evaluation with its int16 multipliers and saturation rules. */
#include <math.h>

#include "../kernel.h"
#include "activation_ops.h"
#include "quant.h"
#include "unary_driver.h"

enum { LEAKY_OPT_ALPHA = 0, GELU_OPT_APPROXIMATE = 0 };

typedef struct qact_params {
  ep_unary_plan plan;
  int32_t in_zp, out_zp, lo, hi;
  int32_t mult, mult_alpha;
  int shift, shift_alpha;
  int16_t hs_out_mult, hs_relu_mult;
  int hs_out_exp, hs_relu_exp;
  int8_t table[256];
} qact_params;
_Static_assert(offsetof(qact_params, plan) == 0, "ep_unary_eval reads the plan at node->user_data");

static void relu_row(const void *pin, void *pout, int64_t n, const void *params) {
  const int8_t *in = pin;
  int8_t *out = pout;
  const qact_params *p = params;
  for (int64_t i = 0; i < n; i++) {
    int32_t v = p->out_zp + ep_mul_by_quantized_multiplier((int32_t)in[i] - p->in_zp, p->mult, p->shift);
    out[i] = (int8_t)ep_clamp_i32(v, p->lo, p->hi);
  }
}

static void leaky_row(const void *pin, void *pout, int64_t n, const void *params) {
  const int8_t *in = pin;
  int8_t *out = pout;
  const qact_params *p = params;
  for (int64_t i = 0; i < n; i++) {
    int32_t x = (int32_t)in[i] - p->in_zp;
    int32_t v = x >= 0 ? ep_mul_by_quantized_multiplier(x, p->mult, p->shift)
                       : ep_mul_by_quantized_multiplier(x, p->mult_alpha, p->shift_alpha);
    out[i] = (int8_t)ep_clamp_i32(p->out_zp + v, -128, 127);
  }
}

static void table_row(const void *pin, void *pout, int64_t n, const void *params) {
  const uint8_t *in = pin;
  int8_t *out = pout;
  const qact_params *p = params;
  for (int64_t i = 0; i < n; i++) out[i] = p->table[in[i]];
}

/* ---- 16-bit fixed-point helpers of TFLite's quantized HARD_SWISH ---- */

static int16_t srdhm16(int16_t a, int16_t b) {
  if (a == INT16_MIN && b == INT16_MIN) return INT16_MAX;
  int32_t ab = (int32_t)a * b;
  int32_t nudge = ab >= 0 ? (1 << 14) : (1 - (1 << 14));
  return (int16_t)((ab + nudge) / (1 << 15));
}

/* Doubling high multiply without rounding: TFLite uses it to cancel the bias of the rounding one. */
static int16_t sdhm16(int16_t a, int16_t b) {
  if (a == INT16_MIN && b == INT16_MIN) return INT16_MAX;
  return (int16_t)(((int32_t)a * b) / (1 << 15));
}

static int16_t rdbpot16(int16_t x, int exponent) {
  int16_t mask = (int16_t)((1 << exponent) - 1);
  int16_t remainder = (int16_t)(x & mask);
  int16_t threshold = (int16_t)((mask >> 1) + (x < 0 ? 1 : 0));
  return (int16_t)((x >> exponent) + (remainder > threshold ? 1 : 0));
}

static int16_t sat_shl16(int16_t a, int offset) {
  int32_t wide = (int32_t)a * (1 << offset);
  return (int16_t)(wide > INT16_MAX ? INT16_MAX : (wide < INT16_MIN ? INT16_MIN : wide));
}

static void hard_swish_row(const void *pin, void *pout, int64_t n, const void *params) {
  const int8_t *in = pin;
  int8_t *out = pout;
  const qact_params *p = params;
  for (int64_t i = 0; i < n; i++) {
    int16_t x = (int16_t)((int32_t)in[i] - p->in_zp);
    int16_t hires = (int16_t)(x * (1 << 7));
    int16_t preshift_out = srdhm16(hires, p->hs_out_mult);
    int16_t reluish = hires;
    if (p->hs_relu_exp > 0) reluish = sat_shl16(reluish, p->hs_relu_exp - 1);
    reluish = srdhm16(reluish, p->hs_relu_mult);
    if (p->hs_relu_exp > 0) reluish = sat_shl16(reluish, 1);
    if (p->hs_relu_exp < 0) reluish = rdbpot16(reluish, -p->hs_relu_exp);
    reluish = (int16_t)(((int32_t)reluish + (1 << 15)) >> 1); /* [-1, 1] -> [0, 1] */
    int16_t v = rdbpot16(sdhm16(reluish, preshift_out), -p->hs_out_exp);
    out[i] = (int8_t)ep_clamp_i32((int32_t)v + p->out_zp, -128, 127);
  }
}

/* TFLite's DownScaleInt32ToInt16Multiplier: round a Q0.31 significand to Q0.15, saturating. */
static int16_t to_int16_multiplier(int32_t m) {
  if (m >= INT32_MAX - (1 << 15)) return INT16_MAX;
  return (int16_t)((m + (1 << 15)) >> 16);
}

static float apply_logistic(float x) { return 1.0f / (1.0f + expf(-x)); }
static float apply_elu(float x) { return x < 0.0f ? expf(x) - 1.0f : x; }
static float apply_gelu(float x) { return 0.5f * x * erfcf(x * -0.70710678118654752f); }
static float apply_gelu_tanh(float x) {
  return 0.5f * x * (1.0f + tanhf(0.79788456080286536f * (x + 0.044715f * x * x * x)));
}

static void build_table(qact_params *p, float in_scale, float out_scale, float (*fn)(float)) {
  float inverse_scale = 1.0f / out_scale;
  for (int32_t v = -128; v <= 127; v++) {
    float real = in_scale * (float)(v - p->in_zp);
    float rescaled = roundf(fn(real) * inverse_scale);
    int32_t q = (int32_t)(rescaled + (float)p->out_zp);
    p->table[(uint8_t)(int8_t)v] = (int8_t)ep_clamp_i32(q, -128, 127);
  }
}

static ep_status prepare(ep_context *ctx, ep_node *node) {
  ep_status st = ep_unary_prepare(ctx, node, EP_INT8);
  if (st != EP_OK) return st;
  ep_tensor *in = ep_input(ctx, node, 0), *out = ep_output(ctx, node, 0);
  if ((st = ep_require_per_tensor_quant(ctx, node, in)) != EP_OK) return st;
  if ((st = ep_require_per_tensor_quant(ctx, node, out)) != EP_OK) return st;
  qact_params *p = ep_alloc_persistent(ctx, sizeof *p);
  if (!p) return EP_ERROR_MEMORY;
  p->in_zp = ep_zero_point(in);
  p->out_zp = ep_zero_point(out);
  float si = ep_scale(in), so = ep_scale(out);
  switch (node->builtin_code) {
    case EP_OP_RELU:
    case EP_OP_RELU6:
    case EP_OP_RELU_N1_TO_1: {
      int act = node->builtin_code == EP_OP_RELU ? EP_ACT_RELU
                : node->builtin_code == EP_OP_RELU6 ? EP_ACT_RELU6 : EP_ACT_RELU_N1_TO_1;
      ep_quantize_multiplier(si / so, &p->mult, &p->shift); /* TFLite divides in float here */
      ep_activation_range_quant(act, so, p->out_zp, -128, 127, &p->lo, &p->hi);
      p->plan.row = relu_row;
      break;
    }
    case EP_OP_LEAKY_RELU: {
      float alpha = ep_opt_f32(node, LEAKY_OPT_ALPHA, 0.0f);
      ep_quantize_multiplier(si * alpha / so, &p->mult_alpha, &p->shift_alpha);
      ep_quantize_multiplier(si / so, &p->mult, &p->shift);
      p->plan.row = leaky_row;
      break;
    }
    case EP_OP_LOGISTIC:
    case EP_OP_TANH:
      if (node->builtin_code == EP_OP_LOGISTIC && (so != 1.0f / 256 || p->out_zp != -128))
        return ep_kernel_fail(ctx, node, EP_ERROR_MODEL, "int8 output must have scale 1/256 and zero point -128");
      build_table(p, si, so, node->builtin_code == EP_OP_LOGISTIC ? apply_logistic : tanhf);
      p->plan.row = table_row;
      break;
    case EP_OP_ELU:
      build_table(p, si, so, apply_elu);
      p->plan.row = table_row;
      break;
    case EP_OP_GELU:
      build_table(p, si, so, ep_opt_bool(node, GELU_OPT_APPROXIMATE, 0) ? apply_gelu_tanh : apply_gelu);
      p->plan.row = table_row;
      break;
    case EP_OP_HARD_SWISH: {
      float hires_scale = (1.0f / 128.0f) * si;
      int32_t m32;
      ep_quantize_multiplier(hires_scale / so, &m32, &p->hs_out_exp);
      p->hs_out_mult = to_int16_multiplier(m32);
      if (p->hs_out_exp > 0)
        return ep_kernel_fail(ctx, node, EP_ERROR_UNSUPPORTED, "input/output scale ratio too large for int8");
      ep_quantize_multiplier(hires_scale / (3.0f / 32768.0f), &m32, &p->hs_relu_exp);
      p->hs_relu_mult = to_int16_multiplier(m32);
      p->plan.row = hard_swish_row;
      break;
    }
    default:
      return ep_kernel_fail(ctx, node, EP_ERROR_UNSUPPORTED, "no int8 kernel");
  }
  p->plan.params = p;
  p->plan.es_in = p->plan.es_out = 1;
  node->user_data = p;
  return EP_OK;
}

#define K(OP, OPTS, NAME) {OP, EP_INT8, EP_ISA_REF, OPTS, NAME "_s8_ref", prepare, ep_unary_eval},

const ep_kernel ep_kernels_activations_quant[] = {
    EP_ACTIVATION_OPS(K)
    K(EP_OP_ELU, EP_OPTIONS_NONE, "elu")
    K(EP_OP_GELU, EP_OPTIONS_GeluOptions, "gelu")
    EP_KERNEL_END,
};
