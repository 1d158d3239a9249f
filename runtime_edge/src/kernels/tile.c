/* TILE (constant multiples) and BROADCAST_TO (constant shape), any dtype. BROADCAST_TO is a strided view with
 * stride 0 on stretched axes (strided_copy.h); TILE maps every output index to (index mod input size) per
 * axis, copying whole input rows and repeating them along the last axis. */
#include <string.h>

#include "../kernel.h"
#include "strided_copy.h"
#include "util.h"

typedef struct tile_params {
  int32_t rank;
  int32_t in_dims[EP_MAX_RANK], out_dims[EP_MAX_RANK];
  int64_t in_strides[EP_MAX_RANK];
  size_t es;
} tile_params;

typedef struct tile_job {
  const tile_params *p;
  const uint8_t *in;
  uint8_t *out;
} tile_job;

static ep_status prepare_tile(ep_context *ctx, ep_node *node) {
  ep_status st = ep_check_arity(ctx, node, 2, 2, 1);
  if (st != EP_OK) return st;
  ep_tensor *in = ep_input(ctx, node, 0), *mult = ep_input(ctx, node, 1), *out = ep_output(ctx, node, 0);
  if ((st = ep_check_const_index(ctx, node, mult, "multiples")) != EP_OK) return st;
  if ((int32_t)ep_num_elements(mult) != in->rank || in->rank == 0)
    return ep_kernel_fail(ctx, node, EP_ERROR_MODEL, "multiples need %d entries", in->rank);
  if ((st = ep_check_type(ctx, node, out, in->type, "output")) != EP_OK) return st;
  tile_params *p = ep_alloc_persistent(ctx, sizeof *p);
  if (!p) return EP_ERROR_MEMORY;
  if ((st = ep_element_size(ctx, node, in, &p->es)) != EP_OK) return st;
  p->rank = in->rank;
  for (int32_t k = 0; k < in->rank; k++) {
    int64_t m = ep_index_at(mult, (size_t)k);
    if (m < 0 || (int64_t)in->dims[k] * m > INT32_MAX)
      return ep_kernel_fail(ctx, node, EP_ERROR_MODEL, "invalid multiple %lld", (long long)m);
    p->in_dims[k] = in->dims[k];
    p->out_dims[k] = (int32_t)(in->dims[k] * m);
  }
  ep_strides(p->rank, p->in_dims, p->in_strides);
  node->user_data = p;
  return ep_set_shape(ctx, out, p->rank, p->out_dims);
}

static void tile_rows(void *arg, int64_t begin, int64_t end, int thread) {
  (void)thread;
  const tile_job *j = arg;
  const tile_params *p = j->p;
  int32_t last = p->rank - 1;
  size_t row_in = (size_t)p->in_dims[last] * p->es, row_out = (size_t)p->out_dims[last] * p->es;
  for (int64_t row = begin; row < end; row++) {
    int64_t src = 0, rest = row;
    for (int32_t k = last - 1; k >= 0; k--) {
      src += (rest % p->out_dims[k]) % p->in_dims[k] * p->in_strides[k];
      rest /= p->out_dims[k];
    }
    uint8_t *dst = j->out + (size_t)row * row_out;
    for (size_t off = 0; off < row_out; off += row_in) memcpy(dst + off, j->in + (size_t)src * p->es, row_in);
  }
}

static ep_status eval_tile(ep_context *ctx, ep_node *node) {
  const tile_params *p = node->user_data;
  tile_job job = {p, ep_input(ctx, node, 0)->data, ep_output(ctx, node, 0)->data};
  int64_t rows = 1;
  for (int32_t k = 0; k < p->rank; k++)
    if (p->out_dims[k] == 0) return EP_OK;
  for (int32_t k = 0; k + 1 < p->rank; k++) rows *= p->out_dims[k];
  ep_parallel_for(ctx, rows, 1, tile_rows, &job);
  return EP_OK;
}

static ep_status prepare_broadcast_to(ep_context *ctx, ep_node *node) {
  ep_status st = ep_check_arity(ctx, node, 2, 2, 1);
  if (st != EP_OK) return st;
  ep_tensor *in = ep_input(ctx, node, 0), *shape = ep_input(ctx, node, 1), *out = ep_output(ctx, node, 0);
  if ((st = ep_check_const_index(ctx, node, shape, "shape")) != EP_OK) return st;
  int32_t rank = (int32_t)ep_num_elements(shape);
  if (rank < in->rank || rank > EP_MAX_RANK)
    return ep_kernel_fail(ctx, node, EP_ERROR_MODEL, "cannot broadcast rank %d to rank %d", in->rank, rank);
  if ((st = ep_check_type(ctx, node, out, in->type, "output")) != EP_OK) return st;
  ep_view *v;
  if ((st = ep_view_alloc(ctx, node, in, &v)) != EP_OK) return st;
  int64_t strides[EP_MAX_RANK];
  ep_strides(in->rank, in->dims, strides);
  v->rank = rank;
  for (int32_t k = 0; k < rank; k++) {
    int32_t ik = k - (rank - in->rank), d = (int32_t)ep_index_at(shape, (size_t)k);
    int32_t di = ik >= 0 ? in->dims[ik] : 1;
    if (d < 0 || (di != d && di != 1))
      return ep_kernel_fail(ctx, node, EP_ERROR_MODEL, "dimension %d of size %d cannot become %d", k, di, d);
    v->dims[k] = d;
    v->strides[k] = di == 1 ? 0 : strides[ik];
  }
  return ep_view_install(ctx, node, v, rank, v->dims);
}

const ep_kernel ep_kernels_tile[] = {
    {EP_OP_TILE, EP_ANY_DTYPE, EP_ISA_REF, EP_OPTIONS_NONE, "tile_any_ref", prepare_tile, eval_tile},
    {EP_OP_BROADCAST_TO, EP_ANY_DTYPE, EP_ISA_REF, EP_OPTIONS_NONE, "broadcast_to_any_ref", prepare_broadcast_to,
     ep_view_eval},
    EP_KERNEL_END,
};
