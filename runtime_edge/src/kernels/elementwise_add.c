/* ADD: out = act(a + b) with NumPy broadcasting and a fused activation (AddOptions).
 * Prepare checks dtypes, computes the broadcast shape and the activation's clamp range once; eval only
 * loops. Rows of the output (all dims but the last) are split across threads. */
#include <float.h>

#include "../kernel.h"
#include "broadcast.h"

/* AddOptions field slots (schema.fbs). */
enum { ADD_OPT_ACTIVATION = 0 };

typedef struct add_params {
  float lo, hi;
  int flat;          /* a, b and out have the same shape: one contiguous loop */
  ep_broadcast bc;
} add_params;

typedef struct add_job {
  const add_params *p;
  const float *a, *b;
  float *out;
} add_job;

static ep_status add_prepare_f32(ep_context *ctx, ep_node *node) {
  ep_tensor *a = ep_input(ctx, node, 0), *b = ep_input(ctx, node, 1), *out = ep_output(ctx, node, 0);
  if (!a || !b || !out) return ep_kernel_fail(ctx, node, EP_ERROR_MODEL, "needs 2 inputs and 1 output");
  if (b->type != EP_FLOAT32 || out->type != EP_FLOAT32)
    return ep_kernel_fail(ctx, node, EP_ERROR_UNSUPPORTED, "float32 input with %s and %s",
                          ep_dtype_name(b->type), ep_dtype_name(out->type));
  add_params *p = ep_alloc_persistent(ctx, sizeof *p);
  if (!p) return EP_ERROR_MEMORY;
  if (!ep_broadcast_shapes(a, b, &p->bc))
    return ep_kernel_fail(ctx, node, EP_ERROR_MODEL, "shapes of '%s' and '%s' do not broadcast", a->name,
                          b->name);
  ep_status st = ep_activation_range_f32(ctx, node, ep_opt_i8(node, ADD_OPT_ACTIVATION, EP_ACT_NONE), &p->lo,
                                         &p->hi);
  if (st != EP_OK) return st;
  p->flat = ep_same_shape(a, b);
  node->user_data = p;
  return ep_set_shape(ctx, out, p->bc.rank, p->bc.dims);
}

static inline float clampf(float v, float lo, float hi) { return v < lo ? lo : (v > hi ? hi : v); }

static void add_flat(void *arg, int64_t begin, int64_t end, int thread) {
  (void)thread;
  const add_job *j = arg;
  for (int64_t i = begin; i < end; i++) j->out[i] = clampf(j->a[i] + j->b[i], j->p->lo, j->p->hi);
}

static void add_rows(void *arg, int64_t begin, int64_t end, int thread) {
  (void)thread;
  const add_job *j = arg;
  const ep_broadcast *bc = &j->p->bc;
  int64_t inner = bc->rank ? bc->dims[bc->rank - 1] : 1;
  int64_t sa = bc->rank ? bc->stride_a[bc->rank - 1] : 0, sb = bc->rank ? bc->stride_b[bc->rank - 1] : 0;
  for (int64_t row = begin; row < end; row++) {
    int64_t oa, ob;
    ep_broadcast_row(bc, row, &oa, &ob);
    const float *a = j->a + oa, *b = j->b + ob;
    float *out = j->out + row * inner;
    for (int64_t i = 0; i < inner; i++) out[i] = clampf(a[i * sa] + b[i * sb], j->p->lo, j->p->hi);
  }
}

static ep_status add_eval_f32(ep_context *ctx, ep_node *node) {
  const add_params *p = node->user_data;
  ep_tensor *out = ep_output(ctx, node, 0);
  add_job job = {p, ep_input(ctx, node, 0)->data, ep_input(ctx, node, 1)->data, out->data};
  int64_t n = (int64_t)ep_num_elements(out);
  if (n == 0) return EP_OK;
  if (p->flat) {
    ep_parallel_for(ctx, n, 4096, add_flat, &job);
  } else {
    int64_t inner = p->bc.rank ? p->bc.dims[p->bc.rank - 1] : 1;
    ep_parallel_for(ctx, n / inner, 1 + 4096 / inner, add_rows, &job);
  }
  return EP_OK;
}

const ep_kernel ep_kernels_elementwise_add[] = {
    {EP_OP_ADD, EP_FLOAT32, EP_ISA_REF, EP_OPTIONS_AddOptions, "add_f32_ref", add_prepare_f32, add_eval_f32},
    EP_KERNEL_END,
};
