/* Broadcasting arithmetic on float32 and int32: ADD (int32; float32 is elementwise_add.c), SUB, MUL, DIV,
 * POW, SQUARED_DIFFERENCE, MAXIMUM, MINIMUM, FLOOR_MOD; on int64: ADD, SUB, MUL, MAXIMUM, MINIMUM, FLOOR_MOD.
 * Each (op, dtype) is one row function generated from its scalar expression; ADD/SUB/MUL/DIV apply their
 * fused activation as a clamp. */
#include <math.h>

#include "../kernel.h"
#include "binary_driver.h"
#include "quant.h"
#include "vec.h"

/* Add/Sub/Mul/DivOptions all keep the fused activation in slot 0. */
enum { OPT_ACTIVATION = 0 };

/* int64 outputs clamp in their own range (ep_binary_clamp holds int32 bounds). */
typedef struct clamp_i64 {
  int64_t lo, hi;
} clamp_i64;

typedef struct binary_params {
  ep_binary_plan plan;
  ep_binary_clamp clamp;
  clamp_i64 clamp64;
} binary_params;
_Static_assert(offsetof(binary_params, plan) == 0, "ep_binary_eval reads the plan at node->user_data");

/* Contiguous runs go through restrict-qualified loops (vectorizable, see vec.h); broadcast runs with a
 * stride-0 operand use the scalar strided loop. */
#define ROW_F32(name, expr)                                                                               \
  static inline void name##_flat(const float *restrict A, const float *restrict B, float *restrict O,   \
                                 int64_t n, float lo, float hi) {                                         \
    EP_FOR_VEC(i, n, float x = A[i]; float y = B[i]; float v = (expr); O[i] = v < lo ? lo : (v > hi ? hi : v)); \
  }                                                                                                       \
  static void name##_f32(const void *pa, int64_t sa, const void *pb, int64_t sb, void *po, int64_t n,    \
                         const void *params) {                                                            \
    const ep_binary_clamp *c = params;                                                                    \
    if (sa == 1 && sb == 1) {                                                                             \
      name##_flat(pa, pb, po, n, c->lo, c->hi);                                                           \
      return;                                                                                             \
    }                                                                                                     \
    const float *A = pa, *B = pb;                                                                         \
    float *O = po;                                                                                        \
    for (int64_t i = 0; i < n; i++) {                                                                     \
      float x = A[i * sa], y = B[i * sb], v = (expr);                                                     \
      O[i] = v < c->lo ? c->lo : (v > c->hi ? c->hi : v);                                                 \
    }                                                                                                     \
  }

#define ROW_I32(name, expr)                                                                               \
  static void name##_i32(const void *pa, int64_t sa, const void *pb, int64_t sb, void *po, int64_t n,    \
                         const void *params) {                                                            \
    const int32_t *A = pa, *B = pb;                                                                      \
    int32_t *O = po;                                                                                      \
    const ep_binary_clamp *c = params;                                                                    \
    for (int64_t i = 0; i < n; i++) {                                                                     \
      int32_t x = A[i * sa], y = B[i * sb];                                                               \
      int64_t v = (expr);                                                                                 \
      O[i] = (int32_t)(v < c->ilo ? c->ilo : (v > c->ihi ? c->ihi : v));                                  \
    }                                                                                                     \
  }

/* int64 arithmetic wraps like the hardware does for TFLite (signed overflow is undefined in C). */
#define ROW_I64(name, expr)                                                                               \
  static void name##_i64(const void *pa, int64_t sa, const void *pb, int64_t sb, void *po, int64_t n,    \
                         const void *params) {                                                            \
    const int64_t *A = pa, *B = pb;                                                                      \
    int64_t *O = po;                                                                                      \
    const clamp_i64 *c = params;                                                                          \
    for (int64_t i = 0; i < n; i++) {                                                                     \
      int64_t x = A[i * sa], y = B[i * sb];                                                               \
      int64_t v = (expr);                                                                                 \
      O[i] = v < c->lo ? c->lo : (v > c->hi ? c->hi : v);                                                 \
    }                                                                                                     \
  }

/* int32 POW by repeated squaring with wrap-around; a negative exponent (which TFLite rejects) gives 1. */
static int64_t ipow(int32_t x, int32_t y) {
  uint32_t r = 1, base = (uint32_t)x;
  for (uint32_t e = (uint32_t)(y < 0 ? 0 : y); e; e >>= 1, base *= base)
    if (e & 1) r *= base;
  return (int32_t)r;
}

/* int32 DIV truncates like C; a zero divisor yields 0 instead of trapping (TFLite leaves it undefined). */
static int64_t idiv(int32_t x, int32_t y) {
  if (y == 0) return 0;
  if (x == INT32_MIN && y == -1) return INT32_MAX;
  return x / y;
}

/* TFLite's FLOOR_MOD: the truncated remainder moved into the divisor's sign. A zero divisor (TFLite rejects
 * it for integers) gives 0 instead of trapping, as does INT_MIN % -1 (whose true result is 0). */
static float fmod_floor(float x, float y) {
  float r = fmodf(x, y);
  return r != 0.0f && ((y < 0.0f) != (r < 0.0f)) ? r + y : r;
}

static int64_t imod(int64_t x, int64_t y) {
  if (y == 0 || y == -1) return 0;
  int64_t r = x % y;
  return r != 0 && ((y < 0) != (r < 0)) ? r + y : r;
}

ROW_F32(add, x + y)
ROW_F32(sub, x - y)
ROW_F32(mul, x * y)
ROW_F32(div, x / y)
ROW_F32(pow, powf(x, y))
ROW_F32(sqdiff, (x - y) * (x - y))
ROW_F32(max, x > y ? x : y)
ROW_F32(min, x < y ? x : y)
ROW_F32(floor_mod, fmod_floor(x, y))
ROW_I32(add, (int64_t)x + y)
ROW_I32(sub, (int64_t)x - y)
ROW_I32(mul, (int64_t)(int32_t)((uint32_t)x * (uint32_t)y))
ROW_I32(div, idiv(x, y))
ROW_I32(pow, ipow(x, y))
ROW_I32(sqdiff, ((int64_t)x - y) * ((int64_t)x - y))
ROW_I32(max, x > y ? x : y)
ROW_I32(min, x < y ? x : y)
ROW_I32(floor_mod, imod(x, y))
ROW_I64(add, (int64_t)((uint64_t)x + (uint64_t)y))
ROW_I64(sub, (int64_t)((uint64_t)x - (uint64_t)y))
ROW_I64(mul, (int64_t)((uint64_t)x * (uint64_t)y))
ROW_I64(max, x > y ? x : y)
ROW_I64(min, x < y ? x : y)
ROW_I64(floor_mod, imod(x, y))

typedef struct binary_op {
  int32_t op;
  int fused_activation;
  ep_binary_row_fn f32, i32, i64; /* NULL: no kernel registered for that dtype */
} binary_op;

static const binary_op OPS[] = {
    {EP_OP_ADD, 1, add_f32, add_i32, add_i64},
    {EP_OP_SUB, 1, sub_f32, sub_i32, sub_i64},
    {EP_OP_MUL, 1, mul_f32, mul_i32, mul_i64},
    {EP_OP_DIV, 1, div_f32, div_i32, NULL},
    {EP_OP_POW, 0, pow_f32, pow_i32, NULL},
    {EP_OP_SQUARED_DIFFERENCE, 0, sqdiff_f32, sqdiff_i32, NULL},
    {EP_OP_MAXIMUM, 0, max_f32, max_i32, max_i64},
    {EP_OP_MINIMUM, 0, min_f32, min_i32, min_i64},
    {EP_OP_FLOOR_MOD, 0, floor_mod_f32, floor_mod_i32, floor_mod_i64},
};

static const binary_op *find_op(int32_t code) {
  for (size_t i = 0; i < sizeof OPS / sizeof OPS[0]; i++)
    if (OPS[i].op == code) return &OPS[i];
  return NULL;
}

static ep_status prepare(ep_context *ctx, ep_node *node) {
  const binary_op *op = find_op(node->builtin_code);
  binary_params *p = ep_alloc_persistent(ctx, sizeof *p);
  if (!p) return EP_ERROR_MEMORY;
  ep_status st = ep_binary_prepare(ctx, node, &p->plan);
  if (st != EP_OK) return st;
  ep_tensor *a = ep_input(ctx, node, 0), *b = ep_input(ctx, node, 1), *out = ep_output(ctx, node, 0);
  if ((st = ep_check_type(ctx, node, b, a->type, "second input")) != EP_OK) return st;
  if ((st = ep_check_type(ctx, node, out, a->type, "output")) != EP_OK) return st;
  int act = op->fused_activation ? ep_opt_i8(node, OPT_ACTIVATION, EP_ACT_NONE) : EP_ACT_NONE;
  float lo, hi;
  if ((st = ep_activation_range_f32(ctx, node, act, &lo, &hi)) != EP_OK) return st;
  p->clamp.lo = lo, p->clamp.hi = hi;
  p->clamp.ilo = lo <= (float)INT32_MIN ? INT32_MIN : (int32_t)lo;
  p->clamp.ihi = hi >= (float)INT32_MAX ? INT32_MAX : (int32_t)hi;
  p->clamp64.lo = lo <= (float)INT64_MIN ? INT64_MIN : (int64_t)lo;
  p->clamp64.hi = hi >= (float)INT64_MAX ? INT64_MAX : (int64_t)hi;
  p->plan.row = a->type == EP_FLOAT32 ? op->f32 : a->type == EP_INT32 ? op->i32 : op->i64;
  p->plan.es_a = p->plan.es_b = p->plan.es_out = a->type == EP_INT64 ? 8 : 4;
  p->plan.params = a->type == EP_INT64 ? (const void *)&p->clamp64 : (const void *)&p->clamp;
  node->user_data = p;
  return EP_OK;
}

#define F32(OP, OPTS, NAME) {OP, EP_FLOAT32, EP_ISA_REF, OPTS, NAME "_f32_ref", prepare, ep_binary_eval}
#define I32(OP, OPTS, NAME) {OP, EP_INT32, EP_ISA_REF, OPTS, NAME "_i32_ref", prepare, ep_binary_eval}
#define I64(OP, OPTS, NAME) {OP, EP_INT64, EP_ISA_REF, OPTS, NAME "_i64_ref", prepare, ep_binary_eval}

const ep_kernel ep_kernels_elementwise_binary[] = {
    I32(EP_OP_ADD, EP_OPTIONS_AddOptions, "add"),
    I64(EP_OP_ADD, EP_OPTIONS_AddOptions, "add"),
    I64(EP_OP_SUB, EP_OPTIONS_SubOptions, "sub"),
    I64(EP_OP_MUL, EP_OPTIONS_MulOptions, "mul"),
    I64(EP_OP_MAXIMUM, EP_OPTIONS_NONE, "maximum"),
    I64(EP_OP_MINIMUM, EP_OPTIONS_NONE, "minimum"),
    F32(EP_OP_FLOOR_MOD, EP_OPTIONS_NONE, "floor_mod"),
    I32(EP_OP_FLOOR_MOD, EP_OPTIONS_NONE, "floor_mod"),
    I64(EP_OP_FLOOR_MOD, EP_OPTIONS_NONE, "floor_mod"),
    F32(EP_OP_SUB, EP_OPTIONS_SubOptions, "sub"),
    I32(EP_OP_SUB, EP_OPTIONS_SubOptions, "sub"),
    F32(EP_OP_MUL, EP_OPTIONS_MulOptions, "mul"),
    I32(EP_OP_MUL, EP_OPTIONS_MulOptions, "mul"),
    F32(EP_OP_DIV, EP_OPTIONS_DivOptions, "div"),
    I32(EP_OP_DIV, EP_OPTIONS_DivOptions, "div"),
    F32(EP_OP_POW, EP_OPTIONS_NONE, "pow"),
    I32(EP_OP_POW, EP_OPTIONS_NONE, "pow"),
    F32(EP_OP_SQUARED_DIFFERENCE, EP_OPTIONS_NONE, "squared_difference"),
    I32(EP_OP_SQUARED_DIFFERENCE, EP_OPTIONS_NONE, "squared_difference"),
    F32(EP_OP_MAXIMUM, EP_OPTIONS_NONE, "maximum"),
    I32(EP_OP_MAXIMUM, EP_OPTIONS_NONE, "maximum"),
    F32(EP_OP_MINIMUM, EP_OPTIONS_NONE, "minimum"),
    I32(EP_OP_MINIMUM, EP_OPTIONS_NONE, "minimum"),
    EP_KERNEL_END,
};
