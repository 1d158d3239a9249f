#include "fold.h"

#include "errors.h"

/* Ops whose result is not a function of their inputs' values alone. */
static int stateful(int32_t op) {
  switch (op) {
    case EP_OP_RANDOM_STANDARD_NORMAL: case EP_OP_RANDOM_UNIFORM: case EP_OP_MULTINOMIAL: case EP_OP_CALL:
    case EP_OP_CALL_ONCE: case EP_OP_IF: case EP_OP_WHILE: case EP_OP_VAR_HANDLE: case EP_OP_READ_VARIABLE:
    case EP_OP_ASSIGN_VARIABLE: case EP_OP_CUSTOM:
      return 1;
    default:
      return 0;
  }
}

int ep_foldable(const ep_context *ctx, const ep_node *node) {
  if (stateful(node->builtin_code)) return 0;
  int inputs = 0;
  for (int32_t k = 0; k < node->num_inputs; k++) {
    int32_t t = node->inputs[k];
    if (t < 0) continue;
    if (!ctx->tensors[t].is_constant) return 0;
    inputs++;
  }
  return inputs > 0;
}

ep_status ep_fold(ep_context *ctx, ep_node *node) {
  size_t base = (size_t)node->index * EP_MAX_SCRATCH;
  for (int32_t s = 0; s < node->num_scratch; s++) {
    ctx->fold_scratch[base + s] = ep_pool_alloc(&ctx->persistent, 1, ctx->scratch_size[base + s] + 1);
    ctx->scratch_size[base + s] = 0; /* not planned into the arena */
    if (!ctx->fold_scratch[base + s]) return ep_fail(EP_ERROR_MEMORY, "out of memory folding op %d", node->index);
  }
  for (int32_t k = 0; k < node->num_outputs; k++) {
    int32_t t = node->outputs[k];
    if (t < 0) continue;
    ep_tensor *x = &ctx->tensors[t];
    x->data = ep_pool_alloc_uninit(&ctx->persistent, 1, x->bytes + 1); /* eval writes it all */
    if (!x->data) return ep_fail(EP_ERROR_MEMORY, "out of memory folding op %d", node->index);
  }
  ctx->folded[node->index] = 1;
  ctx->phase = PHASE_EVAL;
  ep_status st = node->kernel->eval(ctx, node);
  ctx->phase = PHASE_PREPARE;
  for (int32_t k = 0; k < node->num_outputs; k++)
    if (node->outputs[k] >= 0) ctx->tensors[node->outputs[k]].is_constant = 1;
  return st;
}
