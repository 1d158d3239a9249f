/* The loop driver of elementwise unary families (math functions, activations, lookup tables): the output
 * takes the input's shape at prepare, and eval splits the flat element range across threads, handing each
 * contiguous run to a row function. */
#ifndef EP_KERNELS_UNARY_DRIVER_H
#define EP_KERNELS_UNARY_DRIVER_H

#include "../kernel.h"
#include "util.h"

typedef void (*ep_unary_row_fn)(const void *in, void *out, int64_t n, const void *params);

typedef struct ep_unary_plan {
  ep_unary_row_fn row;
  const void *params;
  size_t es_in, es_out;
} ep_unary_plan;

/* One input, one output of the same shape; the output dtype must be `out_type`. */
static inline ep_status ep_unary_prepare(ep_context *ctx, ep_node *node, int32_t out_type) {
  ep_status st = ep_check_arity(ctx, node, 1, 1, 1);
  if (st != EP_OK) return st;
  ep_tensor *in = ep_input(ctx, node, 0), *out = ep_output(ctx, node, 0);
  if ((st = ep_check_type(ctx, node, out, out_type, "output")) != EP_OK) return st;
  return ep_copy_shape(ctx, out, in);
}

typedef struct ep_unary_job {
  const ep_unary_plan *plan;
  const uint8_t *in;
  uint8_t *out;
} ep_unary_job;

static inline void ep_unary_range(void *arg, int64_t begin, int64_t end, int thread) {
  (void)thread;
  const ep_unary_job *j = arg;
  const ep_unary_plan *p = j->plan;
  p->row(j->in + (size_t)begin * p->es_in, j->out + (size_t)begin * p->es_out, end - begin, p->params);
}

static inline void ep_unary_run(ep_context *ctx, const ep_node *node, const ep_unary_plan *plan) {
  ep_unary_job job = {plan, ep_input(ctx, node, 0)->data, ep_output(ctx, node, 0)->data};
  int64_t n = (int64_t)ep_num_elements(ep_output(ctx, node, 0));
  if (n > 0) ep_parallel_for(ctx, n, 4096, ep_unary_range, &job);
}

/* The eval of a family whose node->user_data is its plan, or params that begin with the plan. */
static inline ep_status ep_unary_eval(ep_context *ctx, ep_node *node) {
  ep_unary_run(ctx, node, node->user_data);
  return EP_OK;
}

#endif
