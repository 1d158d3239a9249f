/* The loop driver of binary elementwise families (arithmetic, comparison, logical): shapes broadcast once at
 * prepare (broadcast.h); eval hands contiguous runs of the output to a row function, splitting them across
 * threads. A row function sees one run of n outputs and reads a and b with element strides 0 or 1. */
#ifndef EP_KERNELS_BINARY_DRIVER_H
#define EP_KERNELS_BINARY_DRIVER_H

#include "../kernel.h"
#include "broadcast.h"
#include "util.h"

/* Clamp ranges of a fused activation, for float and integer outputs. */
typedef struct ep_binary_clamp {
  float lo, hi;
  int32_t ilo, ihi;
} ep_binary_clamp;

typedef void (*ep_binary_row_fn)(const void *a, int64_t sa, const void *b, int64_t sb, void *out, int64_t n,
                                 const void *params);

typedef struct ep_binary_plan {
  ep_broadcast bc;
  int flat;       /* same shapes: the whole output is one run */
  size_t es_a, es_b, es_out;
  ep_binary_row_fn row;
  const void *params;
} ep_binary_plan;

/* Checks arity, broadcasts and sets the output shape; the caller fills row/params and element sizes. */
static inline ep_status ep_binary_prepare(ep_context *ctx, ep_node *node, ep_binary_plan *plan) {
  ep_status st = ep_check_arity(ctx, node, 2, 2, 1);
  if (st != EP_OK) return st;
  ep_tensor *a = ep_input(ctx, node, 0), *b = ep_input(ctx, node, 1), *out = ep_output(ctx, node, 0);
  if (!ep_broadcast_shapes(a, b, &plan->bc))
    return ep_kernel_fail(ctx, node, EP_ERROR_MODEL, "shapes of '%s' and '%s' do not broadcast", a->name,
                          b->name);
  plan->flat = ep_same_shape(a, b);
  return ep_set_shape(ctx, out, plan->bc.rank, plan->bc.dims);
}

typedef struct ep_binary_job {
  const ep_binary_plan *plan;
  const uint8_t *a, *b;
  uint8_t *out;
} ep_binary_job;

enum { EP_BINARY_GRAIN = 4096 };

static inline void ep_binary_flat_range(void *arg, int64_t begin, int64_t end, int thread) {
  (void)thread;
  const ep_binary_job *j = arg;
  const ep_binary_plan *p = j->plan;
  p->row(j->a + (size_t)begin * p->es_a, 1, j->b + (size_t)begin * p->es_b, 1, j->out + (size_t)begin * p->es_out,
         end - begin, p->params);
}

static inline void ep_binary_row_range(void *arg, int64_t begin, int64_t end, int thread) {
  (void)thread;
  const ep_binary_job *j = arg;
  const ep_binary_plan *p = j->plan;
  const ep_broadcast *bc = &p->bc;
  int64_t inner = bc->rank ? bc->dims[bc->rank - 1] : 1;
  int64_t sa = bc->rank ? bc->stride_a[bc->rank - 1] : 0, sb = bc->rank ? bc->stride_b[bc->rank - 1] : 0;
  for (int64_t row = begin; row < end; row++) {
    int64_t oa, ob;
    ep_broadcast_row(bc, row, &oa, &ob);
    p->row(j->a + (size_t)oa * p->es_a, sa, j->b + (size_t)ob * p->es_b, sb, j->out + (size_t)(row * inner) * p->es_out,
           inner, p->params);
  }
}

static inline void ep_binary_run(ep_context *ctx, const ep_node *node, const ep_binary_plan *plan) {
  ep_tensor *out = ep_output(ctx, node, 0);
  ep_binary_job job = {plan, ep_input(ctx, node, 0)->data, ep_input(ctx, node, 1)->data, out->data};
  int64_t n = (int64_t)ep_num_elements(out);
  if (n == 0) return;
  if (plan->flat) {
    ep_parallel_for(ctx, n, EP_BINARY_GRAIN, ep_binary_flat_range, &job);
  } else {
    int64_t inner = plan->bc.rank ? plan->bc.dims[plan->bc.rank - 1] : 1;
    ep_parallel_for(ctx, n / inner, 1 + EP_BINARY_GRAIN / inner, ep_binary_row_range, &job);
  }
}

/* The eval of a family whose node->user_data is its plan, or params that begin with the plan. */
static inline ep_status ep_binary_eval(ep_context *ctx, ep_node *node) {
  ep_binary_run(ctx, node, node->user_data);
  return EP_OK;
}

#endif
