/* Elementwise math on float32 (SQRT, RSQRT, EXP, LOG, NEG, ABS, SIN, COS, SIGN, ROUND, FLOOR, CEIL) and int32
 * (NEG, ABS, SIGN): one row function per
 * (op, dtype) generated from its scalar expression, looked up in a table at prepare. */
#include <math.h>

#include "../kernel.h"
#include "unary_driver.h"
#include "vec.h"

/* Each op is a restrict-qualified loop (vectorizable where the expression allows, see vec.h) behind a
 * row-function wrapper. */
#define ROW(name, T, expr)                                                                              \
  static inline void name##_loop(const T *restrict in, T *restrict out, int64_t n) {                   \
    EP_FOR_VEC(i, n, T x = in[i]; out[i] = (expr));                                                     \
  }                                                                                                     \
  static void name(const void *in, void *out, int64_t n, const void *params) {                         \
    (void)params;                                                                                       \
    name##_loop(in, out, n);                                                                            \
  }

ROW(sqrt_f32, float, sqrtf(x))
ROW(rsqrt_f32, float, 1.0f / sqrtf(x))
ROW(exp_f32, float, expf(x))
ROW(log_f32, float, logf(x))
ROW(neg_f32, float, -x)
ROW(abs_f32, float, fabsf(x))
ROW(sin_f32, float, sinf(x))
ROW(cos_f32, float, cosf(x))
/* Comparisons, so that NaN (and -0) give 0 as in TFLite. */
ROW(sign_f32, float, (float)((0.0f < x) - (x < 0.0f)))
/* rintf rounds half to even in the default rounding mode, TFLite's ROUND semantics. */
ROW(round_f32, float, rintf(x))
ROW(floor_f32, float, floorf(x))
ROW(ceil_f32, float, ceilf(x))
/* Two's complement wrap for INT32_MIN, as the hardware does for TFLite. */
ROW(neg_i32, int32_t, (int32_t)(0u - (uint32_t)x))
ROW(abs_i32, int32_t, x < 0 ? (int32_t)(0u - (uint32_t)x) : x)
ROW(sign_i32, int32_t, (0 < x) - (x < 0))

typedef struct unary_op {
  int32_t op, dtype;
  ep_unary_row_fn row;
} unary_op;

static const unary_op OPS[] = {
    {EP_OP_SQRT, EP_FLOAT32, sqrt_f32}, {EP_OP_RSQRT, EP_FLOAT32, rsqrt_f32}, {EP_OP_EXP, EP_FLOAT32, exp_f32},
    {EP_OP_LOG, EP_FLOAT32, log_f32},   {EP_OP_NEG, EP_FLOAT32, neg_f32},     {EP_OP_ABS, EP_FLOAT32, abs_f32},
    {EP_OP_SIN, EP_FLOAT32, sin_f32},   {EP_OP_COS, EP_FLOAT32, cos_f32},     {EP_OP_SIGN, EP_FLOAT32, sign_f32},
    {EP_OP_ROUND, EP_FLOAT32, round_f32}, {EP_OP_FLOOR, EP_FLOAT32, floor_f32}, {EP_OP_CEIL, EP_FLOAT32, ceil_f32},
    {EP_OP_NEG, EP_INT32, neg_i32},     {EP_OP_ABS, EP_INT32, abs_i32},       {EP_OP_SIGN, EP_INT32, sign_i32},
};

static ep_status prepare(ep_context *ctx, ep_node *node) {
  ep_tensor *in = ep_input(ctx, node, 0);
  ep_status st = ep_unary_prepare(ctx, node, in ? in->type : EP_FLOAT32);
  if (st != EP_OK) return st;
  for (size_t i = 0; i < sizeof OPS / sizeof OPS[0]; i++) {
    if (OPS[i].op != node->builtin_code || OPS[i].dtype != in->type) continue;
    ep_unary_plan *plan = ep_alloc_persistent(ctx, sizeof *plan);
    if (!plan) return EP_ERROR_MEMORY;
    *plan = (ep_unary_plan){OPS[i].row, NULL, 4, 4};
    node->user_data = plan;
    return EP_OK;
  }
  return ep_kernel_fail(ctx, node, EP_ERROR_UNSUPPORTED, "%s input is not supported", ep_dtype_name(in->type));
}

#define K(OP, DT, NAME) {OP, DT, EP_ISA_REF, EP_OPTIONS_NONE, NAME, prepare, ep_unary_eval}

const ep_kernel ep_kernels_elementwise_unary[] = {
    K(EP_OP_SQRT, EP_FLOAT32, "sqrt_f32_ref"), K(EP_OP_RSQRT, EP_FLOAT32, "rsqrt_f32_ref"),
    K(EP_OP_EXP, EP_FLOAT32, "exp_f32_ref"),   K(EP_OP_LOG, EP_FLOAT32, "log_f32_ref"),
    K(EP_OP_NEG, EP_FLOAT32, "neg_f32_ref"),   K(EP_OP_ABS, EP_FLOAT32, "abs_f32_ref"),
    K(EP_OP_SIN, EP_FLOAT32, "sin_f32_ref"),   K(EP_OP_COS, EP_FLOAT32, "cos_f32_ref"),
    K(EP_OP_SIGN, EP_FLOAT32, "sign_f32_ref"), K(EP_OP_ROUND, EP_FLOAT32, "round_f32_ref"),
    K(EP_OP_FLOOR, EP_FLOAT32, "floor_f32_ref"), K(EP_OP_CEIL, EP_FLOAT32, "ceil_f32_ref"),
    K(EP_OP_NEG, EP_INT32, "neg_i32_ref"),     K(EP_OP_ABS, EP_INT32, "abs_i32_ref"),
    K(EP_OP_SIGN, EP_INT32, "sign_i32_ref"),
    EP_KERNEL_END,
};
