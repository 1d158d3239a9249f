/* TRANSPOSE: out.shape[i] = in.shape[perm[i]]. The permutation is a constant, so the strided view of the
 * input is planned once at prepare; any dtype. */
#include "../kernel.h"
#include "strided_copy.h"
#include "util.h"

static ep_status prepare(ep_context *ctx, ep_node *node) {
  ep_status st = ep_check_arity(ctx, node, 2, 2, 1);
  if (st != EP_OK) return st;
  ep_tensor *in = ep_input(ctx, node, 0), *perm = ep_input(ctx, node, 1), *out = ep_output(ctx, node, 0);
  if ((st = ep_check_const_index(ctx, node, perm, "perm")) != EP_OK) return st;
  if ((int32_t)ep_num_elements(perm) != in->rank)
    return ep_kernel_fail(ctx, node, EP_ERROR_MODEL, "perm '%s' has %zu entries for rank %d", perm->name,
                          ep_num_elements(perm), in->rank);
  if ((st = ep_check_type(ctx, node, out, in->type, "output")) != EP_OK) return st;
  ep_view *v;
  if ((st = ep_view_alloc(ctx, node, in, &v)) != EP_OK) return st;
  int64_t strides[EP_MAX_RANK];
  ep_strides(in->rank, in->dims, strides);
  int seen[EP_MAX_RANK] = {0};
  v->rank = in->rank;
  for (int32_t i = 0; i < in->rank; i++) {
    int32_t p = ep_norm_axis(ep_index_at(perm, (size_t)i), in->rank);
    if (p < 0 || seen[p]++) return ep_kernel_fail(ctx, node, EP_ERROR_MODEL, "perm '%s' is not a permutation", perm->name);
    v->dims[i] = in->dims[p];
    v->strides[i] = strides[p];
  }
  return ep_view_install(ctx, node, v, v->rank, v->dims);
}

const ep_kernel ep_kernels_transpose[] = {
    {EP_OP_TRANSPOSE, EP_ANY_DTYPE, EP_ISA_REF, EP_OPTIONS_NONE, "transpose_any_ref", prepare, ep_view_eval},
    EP_KERNEL_END,
};
