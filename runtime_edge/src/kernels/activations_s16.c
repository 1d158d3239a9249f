/* int16 activations (16x8 models: symmetric int16, zero point 0) in TFLite's integer arithmetic.
 *  - RELU, RELU6: requantize input -> output scale, clamp to the quantized bounds.
 *  - LEAKY_RELU: separate requantization multipliers for the identity and the alpha branch.
 *  - LOGISTIC, TANH (output scale 1/32768): the input is rescaled to steps of 1/(3 * 4096) (a power-of-two
 *    input scale uses TFLite's shift-only form) and read from a 256-entry table of sigmoid(i / 24) in 0.16
 *    fixed point with linear interpolation, tanh through tanh(x) = 2 sigmoid(2x) - 1, as TFLite's reference
 *    kernels do. The table is computed at prepare (round(65536 sigmoid(i / 24))); TFLite ships its own
 *    rounding of it, so results may differ from TFLite by 1 LSB where the two tables differ by one unit. */
#include <math.h>

#include "../kernel.h"
#include "quant.h"
#include "unary_driver.h"

enum { LEAKY_OPT_ALPHA = 0, TABLE_SIZE = 256 };

typedef struct act16_params {
  ep_unary_plan plan;
  int32_t lo, hi;
  int32_t mult, mult_alpha;
  int shift, shift_alpha;
  int32_t input_multiplier, input_shift; /* LOGISTIC / TANH input rescaling */
  uint16_t sigmoid[TABLE_SIZE];          /* sigmoid(i / 24) in 0.16 fixed point */
} act16_params;
_Static_assert(offsetof(act16_params, plan) == 0, "ep_unary_eval reads the plan at node->user_data");

static void relu_row(const void *pin, void *pout, int64_t n, const void *params) {
  const int16_t *in = pin;
  int16_t *out = pout;
  const act16_params *p = params;
  for (int64_t i = 0; i < n; i++)
    out[i] = (int16_t)ep_clamp_i32(ep_mul_by_quantized_multiplier(in[i], p->mult, p->shift), p->lo, p->hi);
}

static void leaky_row(const void *pin, void *pout, int64_t n, const void *params) {
  const int16_t *in = pin;
  int16_t *out = pout;
  const act16_params *p = params;
  for (int64_t i = 0; i < n; i++) {
    int32_t x = in[i];
    int32_t v = x >= 0 ? ep_mul_by_quantized_multiplier(x, p->mult, p->shift)
                       : ep_mul_by_quantized_multiplier(x, p->mult_alpha, p->shift_alpha);
    out[i] = (int16_t)ep_clamp_i32(v, INT16_MIN, INT16_MAX);
  }
}

/* The input in steps of 1/(3 * 4096), rounded. */
static inline int32_t rescale(const act16_params *p, int16_t x) {
  int32_t round = p->input_shift > 0 ? 1 << (p->input_shift - 1) : 0;
  return (x * p->input_multiplier + round) >> p->input_shift;
}

/* sigmoid(|x|) for x in steps of 1/(3 * 4096), interpolated in the table; `frac_bits` of |x| select the
 * position between two entries (9 for sigmoid, whose entries are 512 steps apart; 8 for tanh's doubled input). */
static inline uint32_t interpolate(const uint16_t *table, uint32_t ax, int frac_bits, uint32_t saturated) {
  uint32_t uh = ax >> frac_bits;
  if (uh >= TABLE_SIZE - 1) return saturated;
  uint32_t ua = table[uh], ub = table[uh + 1], ut = ax & ((1u << frac_bits) - 1);
  return (ua << frac_bits) + ut * (ub - ua);
}

static void logistic_row(const void *pin, void *pout, int64_t n, const void *params) {
  const int16_t *in = pin;
  int16_t *out = pout;
  const act16_params *p = params;
  for (int64_t i = 0; i < n; i++) {
    int32_t x = rescale(p, in[i]);
    uint32_t r = interpolate(p->sigmoid, (uint32_t)(x < 0 ? -x : x), 9, 0x7FFFu << 10);
    /* sigmoid(-x) = 1 - sigmoid(x); round to the 1/32768 output step */
    r = x >= 0 ? r + (1u << 9) : (1u << 25) - r + (1u << 9) - 1;
    out[i] = (int16_t)(r >> 10);
  }
}

static void tanh_row(const void *pin, void *pout, int64_t n, const void *params) {
  const int16_t *in = pin;
  int16_t *out = pout;
  const act16_params *p = params;
  for (int64_t i = 0; i < n; i++) {
    int32_t x = rescale(p, in[i]);
    int32_t r = (int32_t)interpolate(p->sigmoid, (uint32_t)(x < 0 ? -x : x), 8, 0xFFFFu << 8);
    /* tanh = 2 sigmoid(2x) - 1, odd; round to the 1/32768 output step */
    r = x >= 0 ? r - (1 << 23) + (1 << 7) : -r + (1 << 23) + (1 << 7) - 1;
    out[i] = (int16_t)(r >> 8);
  }
}

/* TFLite's CheckedLog2: the rounded log2 of x, and whether x is a power of two. */
static int checked_log2(float x, int *log2) {
  float l = logf(x) * (1.0f / logf(2.0f)), rounded = roundf(l);
  *log2 = (int)rounded;
  return fabsf(l - rounded) < 1e-3f;
}

/* Input rescaling of LOGISTIC (max_pot_shift 0) and TANH (max_pot_shift 1): a power-of-two scale keeps the
 * shift-only form (multiplier 3 << shift); others get a multiplier of input_scale * 3 * 4096 scaled up by a
 * power of two until it exceeds 2^14. */
static void input_rescaling(act16_params *p, float scale, int max_pot_shift) {
  int log2;
  int pot = checked_log2(scale, &log2);
  int shift = 12 + log2;
  if (pot && shift >= 0 && shift <= max_pot_shift) {
    p->input_multiplier = 3 << shift;
    p->input_shift = 0;
    return;
  }
  double m = (double)scale * 4096.0 * 3.0;
  p->input_shift = 0;
  while (m <= 32767.0 / 2.0 && p->input_shift <= 30) {
    p->input_shift++;
    m *= 2.0;
  }
  p->input_multiplier = (int32_t)m;
}

static ep_status prepare(ep_context *ctx, ep_node *node) {
  ep_status st = ep_unary_prepare(ctx, node, EP_INT16);
  if (st != EP_OK) return st;
  ep_tensor *in = ep_input(ctx, node, 0), *out = ep_output(ctx, node, 0);
  if ((st = ep_require_per_tensor_quant(ctx, node, in)) != EP_OK) return st;
  if ((st = ep_require_per_tensor_quant(ctx, node, out)) != EP_OK) return st;
  if (ep_zero_point(in) || ep_zero_point(out))
    return ep_kernel_fail(ctx, node, EP_ERROR_MODEL, "int16 tensors must have zero point 0");
  act16_params *p = ep_alloc_persistent(ctx, sizeof *p);
  if (!p) return EP_ERROR_MEMORY;
  float si = ep_scale(in), so = ep_scale(out);
  switch (node->builtin_code) {
    case EP_OP_RELU:
    case EP_OP_RELU6:
      ep_quantize_multiplier((double)si / so, &p->mult, &p->shift);
      ep_activation_range_quant(node->builtin_code == EP_OP_RELU ? EP_ACT_RELU : EP_ACT_RELU6, so, 0, INT16_MIN,
                                INT16_MAX, &p->lo, &p->hi);
      p->plan.row = relu_row;
      break;
    case EP_OP_LEAKY_RELU:
      ep_quantize_multiplier((double)si * ep_opt_f32(node, LEAKY_OPT_ALPHA, 0.0f) / so, &p->mult_alpha,
                             &p->shift_alpha);
      ep_quantize_multiplier((double)si / so, &p->mult, &p->shift);
      p->plan.row = leaky_row;
      break;
    case EP_OP_LOGISTIC:
    case EP_OP_TANH:
      if (so != 1.0f / 32768)
        return ep_kernel_fail(ctx, node, EP_ERROR_MODEL, "int16 output must have scale 1/32768");
      input_rescaling(p, si, node->builtin_code == EP_OP_TANH);
      for (int i = 0; i < TABLE_SIZE; i++) {
        double v = floor(65536.0 / (1.0 + exp(-i / 24.0)) + 0.5);
        p->sigmoid[i] = (uint16_t)(v > 65535.0 ? 65535.0 : v);
      }
      p->plan.row = node->builtin_code == EP_OP_LOGISTIC ? logistic_row : tanh_row;
      break;
    default:
      return ep_kernel_fail(ctx, node, EP_ERROR_UNSUPPORTED, "no int16 kernel");
  }
  p->plan.params = p;
  p->plan.es_in = p->plan.es_out = 2;
  node->user_data = p;
  return EP_OK;
}

#define K(OP, OPTS, NAME) {OP, EP_INT16, EP_ISA_REF, OPTS, NAME "_s16_ref", prepare, ep_unary_eval}

const ep_kernel ep_kernels_activations_s16[] = {
    K(EP_OP_RELU, EP_OPTIONS_NONE, "relu"),
    K(EP_OP_RELU6, EP_OPTIONS_NONE, "relu6"),
    K(EP_OP_LEAKY_RELU, EP_OPTIONS_LeakyReluOptions, "leaky_relu"),
    K(EP_OP_LOGISTIC, EP_OPTIONS_NONE, "logistic"),
    K(EP_OP_TANH, EP_OPTIONS_NONE, "tanh"),
    EP_KERNEL_END,
};
