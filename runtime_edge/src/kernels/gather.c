/* GATHER (any dtype; int32 or int64 indices; axis and batch_dims options):
 *   out[b, o, i, r] = params[b, o, indices[b, i], r]
 * with b the batch_dims leading axes shared by params and indices, o the params axes before `axis`, i the
 * remaining indices axes and r the params axes after `axis`. An index outside the axis fails the run, as in
 * TFLite. */
#include <string.h>

#include "../kernel.h"
#include "util.h"

enum { OPT_AXIS = 0, OPT_BATCH_DIMS = 1 };

typedef struct gather_params {
  int64_t batch, outer, axis_size, inner_bytes, n_idx;
} gather_params;

static ep_status prepare(ep_context *ctx, ep_node *node) {
  ep_status st = ep_check_arity(ctx, node, 2, 2, 1);
  if (st != EP_OK) return st;
  ep_tensor *params = ep_input(ctx, node, 0), *idx = ep_input(ctx, node, 1), *out = ep_output(ctx, node, 0);
  if (idx->type != EP_INT32 && idx->type != EP_INT64)
    return ep_kernel_fail(ctx, node, EP_ERROR_UNSUPPORTED, "indices '%s' must be int32 or int64", idx->name);
  if ((st = ep_check_type(ctx, node, out, params->type, "output")) != EP_OK) return st;
  size_t es;
  if ((st = ep_element_size(ctx, node, params, &es)) != EP_OK) return st;
  int32_t axis = ep_norm_axis(ep_opt_i32(node, OPT_AXIS, 0), params->rank);
  int32_t bd = ep_opt_i32(node, OPT_BATCH_DIMS, 0);
  if (bd < 0) bd += idx->rank;
  if (axis < 0 || bd < 0 || bd > axis || bd > idx->rank)
    return ep_kernel_fail(ctx, node, EP_ERROR_MODEL, "invalid axis %d / batch_dims %d", axis, bd);
  int32_t out_rank = params->rank - 1 + idx->rank - bd;
  if (out_rank > EP_MAX_RANK) return ep_kernel_fail(ctx, node, EP_ERROR_UNSUPPORTED, "rank %d too large", out_rank);
  gather_params *p = ep_alloc_persistent(ctx, sizeof *p);
  if (!p) return EP_ERROR_MEMORY;
  int32_t dims[EP_MAX_RANK], r = 0;
  p->batch = p->outer = p->n_idx = 1;
  p->inner_bytes = (int64_t)es;
  for (int32_t k = 0; k < bd; k++) {
    if (params->dims[k] != idx->dims[k])
      return ep_kernel_fail(ctx, node, EP_ERROR_MODEL, "batch dimension %d differs between params and indices", k);
    p->batch *= params->dims[k];
    dims[r++] = params->dims[k];
  }
  for (int32_t k = bd; k < axis; k++) p->outer *= params->dims[k], dims[r++] = params->dims[k];
  for (int32_t k = bd; k < idx->rank; k++) p->n_idx *= idx->dims[k], dims[r++] = idx->dims[k];
  for (int32_t k = axis + 1; k < params->rank; k++) p->inner_bytes *= params->dims[k], dims[r++] = params->dims[k];
  p->axis_size = params->dims[axis];
  node->user_data = p;
  return ep_set_shape(ctx, out, out_rank, dims);
}

static ep_status eval(ep_context *ctx, ep_node *node) {
  const gather_params *p = node->user_data;
  ep_tensor *params = ep_input(ctx, node, 0), *idx = ep_input(ctx, node, 1);
  const uint8_t *src = params->data;
  uint8_t *dst = ep_output(ctx, node, 0)->data;
  for (int64_t b = 0; b < p->batch; b++)
    for (int64_t o = 0; o < p->outer; o++)
      for (int64_t i = 0; i < p->n_idx; i++) {
        int64_t at = ep_index_at(idx, (size_t)(b * p->n_idx + i));
        if (at < 0 || at >= p->axis_size)
          return ep_kernel_fail(ctx, node, EP_ERROR_KERNEL, "index %lld is outside [0, %lld)", (long long)at,
                                (long long)p->axis_size);
        const uint8_t *from = src + (((b * p->outer + o) * p->axis_size) + at) * p->inner_bytes;
        memcpy(dst, from, (size_t)p->inner_bytes);
        dst += p->inner_bytes;
      }
  return EP_OK;
}

const ep_kernel ep_kernels_gather[] = {
    {EP_OP_GATHER, EP_ANY_DTYPE, EP_ISA_REF, EP_OPTIONS_GatherOptions, "gather_any_ref", prepare, eval},
    EP_KERNEL_END,
};
