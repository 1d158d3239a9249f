/* Broadcasting comparisons EQUAL, NOT_EQUAL, LESS, LESS_EQUAL, GREATER, GREATER_EQUAL on float32, int32,
 * int64 (and bool for the equality tests), producing bool. One row function per (op, dtype) from its
 * scalar expression; quantized operands are not supported (TFLite rescales them to a common scale). */
#include "../kernel.h"
#include "binary_driver.h"

#define ROW(name, T, expr)                                                                               \
  static void name(const void *pa, int64_t sa, const void *pb, int64_t sb, void *po, int64_t n,         \
                   const void *params) {                                                                 \
    (void)params;                                                                                        \
    const T *A = pa, *B = pb;                                                                           \
    uint8_t *O = po;                                                                                     \
    for (int64_t i = 0; i < n; i++) {                                                                    \
      T x = A[i * sa], y = B[i * sb];                                                                    \
      O[i] = (uint8_t)(expr);                                                                            \
    }                                                                                                    \
  }

#define ROWS(T, tag)                   \
  ROW(eq_##tag, T, x == y)            \
  ROW(ne_##tag, T, x != y)            \
  ROW(lt_##tag, T, x < y)             \
  ROW(le_##tag, T, x <= y)            \
  ROW(gt_##tag, T, x > y)             \
  ROW(ge_##tag, T, x >= y)

ROWS(float, f32)
ROWS(int32_t, i32)
ROWS(int64_t, i64)
ROW(eq_b, uint8_t, (x != 0) == (y != 0))
ROW(ne_b, uint8_t, (x != 0) != (y != 0))

typedef struct cmp_op {
  int32_t op;
  ep_binary_row_fn f32, i32, i64, b;
} cmp_op;

static const cmp_op OPS[] = {
    {EP_OP_EQUAL, eq_f32, eq_i32, eq_i64, eq_b},     {EP_OP_NOT_EQUAL, ne_f32, ne_i32, ne_i64, ne_b},
    {EP_OP_LESS, lt_f32, lt_i32, lt_i64, NULL},      {EP_OP_LESS_EQUAL, le_f32, le_i32, le_i64, NULL},
    {EP_OP_GREATER, gt_f32, gt_i32, gt_i64, NULL},   {EP_OP_GREATER_EQUAL, ge_f32, ge_i32, ge_i64, NULL},
};

static ep_status prepare(ep_context *ctx, ep_node *node) {
  ep_binary_plan *plan = ep_alloc_persistent(ctx, sizeof *plan);
  if (!plan) return EP_ERROR_MEMORY;
  ep_status st = ep_binary_prepare(ctx, node, plan);
  if (st != EP_OK) return st;
  ep_tensor *a = ep_input(ctx, node, 0), *b = ep_input(ctx, node, 1), *out = ep_output(ctx, node, 0);
  if ((st = ep_check_type(ctx, node, b, a->type, "second input")) != EP_OK) return st;
  if ((st = ep_check_type(ctx, node, out, EP_BOOL, "output")) != EP_OK) return st;
  for (size_t i = 0; i < sizeof OPS / sizeof OPS[0]; i++) {
    if (OPS[i].op != node->builtin_code) continue;
    plan->row = a->type == EP_FLOAT32 ? OPS[i].f32 : a->type == EP_INT32 ? OPS[i].i32
              : a->type == EP_INT64 ? OPS[i].i64 : a->type == EP_BOOL ? OPS[i].b : NULL;
  }
  if (!plan->row)
    return ep_kernel_fail(ctx, node, EP_ERROR_UNSUPPORTED, "%s operands are not supported", ep_dtype_name(a->type));
  plan->es_a = plan->es_b = ep_dtype_size(a->type);
  plan->es_out = 1;
  node->user_data = plan;
  return EP_OK;
}

#define K(OP, NAME) {OP, EP_ANY_DTYPE, EP_ISA_REF, EP_OPTIONS_NONE, NAME, prepare, ep_binary_eval}

const ep_kernel ep_kernels_comparison[] = {
    K(EP_OP_EQUAL, "equal_ref"),  K(EP_OP_NOT_EQUAL, "not_equal_ref"), K(EP_OP_LESS, "less_ref"),
    K(EP_OP_LESS_EQUAL, "less_equal_ref"), K(EP_OP_GREATER, "greater_ref"), K(EP_OP_GREATER_EQUAL, "greater_equal_ref"),
    EP_KERNEL_END,
};
