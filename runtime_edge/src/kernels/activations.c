/* float32 activations: RELU, RELU6, RELU_N1_TO_1, LEAKY_RELU, LOGISTIC, TANH, HARD_SWISH, ELU, GELU, and
 * PRELU (alpha broadcast against the input). Row functions come from scalar expressions; options that
 * parameterize an activation (LEAKY_RELU alpha, GELU approximate) are read once at prepare. */
#include <math.h>

#include "../kernel.h"
#include "activation_ops.h"
#include "binary_driver.h"
#include "unary_driver.h"
#include "vec.h"

enum { LEAKY_OPT_ALPHA = 0, GELU_OPT_APPROXIMATE = 0 };

typedef struct act_params {
  ep_unary_plan plan;
  float alpha;
} act_params;
_Static_assert(offsetof(act_params, plan) == 0, "ep_unary_eval reads the plan at node->user_data");

/* Each activation is a restrict-qualified loop (vectorizable, see vec.h) behind a row-function wrapper. */
#define ROW(name, expr)                                                                                 \
  static inline void name##_loop(const float *restrict in, float *restrict out, int64_t n,             \
                                 const act_params *p) {                                                 \
    (void)p;                                                                                            \
    EP_FOR_VEC(i, n, float x = in[i]; out[i] = (expr));                                                 \
  }                                                                                                     \
  static void name(const void *in, void *out, int64_t n, const void *params) { name##_loop(in, out, n, params); }

/* sqrt(2 / pi) for the tanh approximation of GELU. */
#define SQRT_2_OVER_PI 0.7978845608028654f

ROW(relu, x < 0.0f ? 0.0f : x)
ROW(relu6, x < 0.0f ? 0.0f : (x > 6.0f ? 6.0f : x))
ROW(relu_n1_to_1, x < -1.0f ? -1.0f : (x > 1.0f ? 1.0f : x))
ROW(leaky_relu, x > 0.0f ? x : x * p->alpha)
ROW(logistic, 1.0f / (1.0f + expf(-x)))
ROW(tanh_f32, tanhf(x))
ROW(hard_swish, x * (x + 3.0f < 0.0f ? 0.0f : (x + 3.0f > 6.0f ? 6.0f : x + 3.0f)) / 6.0f)
ROW(elu, x < 0.0f ? expm1f(x) : x)
ROW(gelu_tanh, 0.5f * x * (1.0f + tanhf(SQRT_2_OVER_PI * (x + 0.044715f * x * x * x))))
ROW(gelu_erf, 0.5f * x * (1.0f + erff(x * 0.7071067811865476f)))

typedef struct act_op {
  int32_t op;
  ep_unary_row_fn row;
} act_op;

static const act_op OPS[] = {
    {EP_OP_RELU, relu},           {EP_OP_RELU6, relu6},       {EP_OP_RELU_N1_TO_1, relu_n1_to_1},
    {EP_OP_LEAKY_RELU, leaky_relu}, {EP_OP_LOGISTIC, logistic}, {EP_OP_TANH, tanh_f32},
    {EP_OP_HARD_SWISH, hard_swish}, {EP_OP_ELU, elu},           {EP_OP_GELU, gelu_erf},
};

static ep_status prepare(ep_context *ctx, ep_node *node) {
  ep_status st = ep_unary_prepare(ctx, node, EP_FLOAT32);
  if (st != EP_OK) return st;
  act_params *p = ep_alloc_persistent(ctx, sizeof *p);
  if (!p) return EP_ERROR_MEMORY;
  for (size_t i = 0; i < sizeof OPS / sizeof OPS[0]; i++)
    if (OPS[i].op == node->builtin_code) p->plan.row = OPS[i].row;
  if (node->builtin_code == EP_OP_LEAKY_RELU) p->alpha = ep_opt_f32(node, LEAKY_OPT_ALPHA, 0.0f);
  if (node->builtin_code == EP_OP_GELU && ep_opt_bool(node, GELU_OPT_APPROXIMATE, 0)) p->plan.row = gelu_tanh;
  p->plan.params = p;
  p->plan.es_in = p->plan.es_out = sizeof(float);
  node->user_data = p;
  return EP_OK;
}

/* PRELU: out = x >= 0 ? x : x * alpha, with alpha broadcast (typically per channel). */
static void prelu_row(const void *pa, int64_t sa, const void *pb, int64_t sb, void *po, int64_t n,
                      const void *params) {
  (void)params;
  const float *x = pa, *alpha = pb;
  float *out = po;
  for (int64_t i = 0; i < n; i++) {
    float v = x[i * sa];
    out[i] = v >= 0.0f ? v : v * alpha[i * sb];
  }
}

static ep_status prepare_prelu(ep_context *ctx, ep_node *node) {
  ep_binary_plan *plan = ep_alloc_persistent(ctx, sizeof *plan);
  if (!plan) return EP_ERROR_MEMORY;
  ep_status st = ep_binary_prepare(ctx, node, plan);
  if (st != EP_OK) return st;
  ep_tensor *x = ep_input(ctx, node, 0), *alpha = ep_input(ctx, node, 1), *out = ep_output(ctx, node, 0);
  if ((st = ep_check_type(ctx, node, alpha, EP_FLOAT32, "alpha")) != EP_OK) return st;
  if ((st = ep_check_type(ctx, node, out, EP_FLOAT32, "output")) != EP_OK) return st;
  if (!ep_same_shape(out, x))
    return ep_kernel_fail(ctx, node, EP_ERROR_MODEL, "alpha '%s' must broadcast to the input's shape", alpha->name);
  plan->row = prelu_row;
  plan->es_a = plan->es_b = plan->es_out = sizeof(float);
  node->user_data = plan;
  return EP_OK;
}

#define K(OP, OPTS, NAME) {OP, EP_FLOAT32, EP_ISA_REF, OPTS, NAME "_f32_ref", prepare, ep_unary_eval},

const ep_kernel ep_kernels_activations[] = {
    EP_ACTIVATION_OPS(K)
    K(EP_OP_ELU, EP_OPTIONS_NONE, "elu")
    K(EP_OP_GELU, EP_OPTIONS_GeluOptions, "gelu")
    {EP_OP_PRELU, EP_FLOAT32, EP_ISA_REF, EP_OPTIONS_NONE, "prelu_f32_ref", prepare_prelu, ep_binary_eval},
    EP_KERNEL_END,
};
