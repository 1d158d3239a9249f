/* LOGICAL_NOT, LOGICAL_AND and LOGICAL_OR on bool tensors (AND/OR broadcast). */
#include "../kernel.h"
#include "binary_driver.h"
#include "unary_driver.h"

static void not_row(const void *pin, void *pout, int64_t n, const void *params) {
  (void)params;
  const uint8_t *in = pin;
  uint8_t *out = pout;
  for (int64_t i = 0; i < n; i++) out[i] = !in[i];
}

static void and_row(const void *pa, int64_t sa, const void *pb, int64_t sb, void *po, int64_t n, const void *params) {
  (void)params;
  const uint8_t *a = pa, *b = pb;
  uint8_t *o = po;
  for (int64_t i = 0; i < n; i++) o[i] = a[i * sa] && b[i * sb];
}

static void or_row(const void *pa, int64_t sa, const void *pb, int64_t sb, void *po, int64_t n, const void *params) {
  (void)params;
  const uint8_t *a = pa, *b = pb;
  uint8_t *o = po;
  for (int64_t i = 0; i < n; i++) o[i] = a[i * sa] || b[i * sb];
}

static const ep_unary_plan NOT_PLAN = {not_row, NULL, 1, 1};

static ep_status prepare_not(ep_context *ctx, ep_node *node) {
  ep_status st = ep_unary_prepare(ctx, node, EP_BOOL);
  if (st != EP_OK) return st;
  node->user_data = (void *)&NOT_PLAN;
  return EP_OK;
}

static ep_status prepare_binary(ep_context *ctx, ep_node *node) {
  ep_binary_plan *plan = ep_alloc_persistent(ctx, sizeof *plan);
  if (!plan) return EP_ERROR_MEMORY;
  ep_status st = ep_binary_prepare(ctx, node, plan);
  if (st != EP_OK) return st;
  if ((st = ep_check_type(ctx, node, ep_input(ctx, node, 1), EP_BOOL, "second input")) != EP_OK) return st;
  if ((st = ep_check_type(ctx, node, ep_output(ctx, node, 0), EP_BOOL, "output")) != EP_OK) return st;
  plan->row = node->builtin_code == EP_OP_LOGICAL_AND ? and_row : or_row;
  plan->es_a = plan->es_b = plan->es_out = 1;
  node->user_data = plan;
  return EP_OK;
}

const ep_kernel ep_kernels_logical[] = {
    {EP_OP_LOGICAL_NOT, EP_BOOL, EP_ISA_REF, EP_OPTIONS_NONE, "logical_not_b_ref", prepare_not, ep_unary_eval},
    {EP_OP_LOGICAL_AND, EP_BOOL, EP_ISA_REF, EP_OPTIONS_NONE, "logical_and_b_ref", prepare_binary, ep_binary_eval},
    {EP_OP_LOGICAL_OR, EP_BOOL, EP_ISA_REF, EP_OPTIONS_NONE, "logical_or_b_ref", prepare_binary, ep_binary_eval},
    EP_KERNEL_END,
};
