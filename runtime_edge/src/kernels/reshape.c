/* Ops that only change the shape: RESHAPE, SQUEEZE, EXPAND_DIMS. Any dtype; the data is copied as bytes
 * (quantized tensors keep their parameters, which TFLite requires to be equal). */
#include <string.h>

#include "../kernel.h"
#include "util.h"

enum { RESHAPE_OPT_NEW_SHAPE = 0, SQUEEZE_OPT_DIMS = 0 };

static ep_status copy_eval(ep_context *ctx, ep_node *node) {
  ep_tensor *in = ep_input(ctx, node, 0), *out = ep_output(ctx, node, 0);
  if (out->data != in->data && out->bytes) memcpy(out->data, in->data, out->bytes);
  return EP_OK;
}

/* Resolves one -1 entry of `dims` against the input's element count and sets the output shape. */
static ep_status set_resolved(ep_context *ctx, ep_node *node, int32_t rank, int32_t *dims) {
  ep_tensor *in = ep_input(ctx, node, 0), *out = ep_output(ctx, node, 0);
  size_t total = ep_num_elements(in), known = 1;
  int unknown = -1;
  for (int32_t i = 0; i < rank; i++) {
    if (dims[i] == -1 && unknown < 0) {
      unknown = i;
    } else if (dims[i] < 0) {
      return ep_kernel_fail(ctx, node, EP_ERROR_MODEL, "invalid new shape dimension %d", dims[i]);
    } else {
      known *= (size_t)dims[i];
    }
  }
  if (unknown >= 0) {
    if (known == 0 || total % known != 0)
      return ep_kernel_fail(ctx, node, EP_ERROR_MODEL, "cannot infer a dimension of %zu values", total);
    dims[unknown] = (int32_t)(total / known);
    known *= (size_t)dims[unknown];
  }
  if (known != total)
    return ep_kernel_fail(ctx, node, EP_ERROR_MODEL, "new shape holds %zu values, input '%s' has %zu", known,
                          in->name, total);
  return ep_set_shape(ctx, out, rank, dims);
}

static ep_status prepare_reshape(ep_context *ctx, ep_node *node) {
  ep_status st = ep_check_arity(ctx, node, 1, 2, 1);
  if (st != EP_OK) return st;
  ep_tensor *shape = ep_input(ctx, node, 1);
  int32_t dims[EP_MAX_RANK], rank;
  if (shape && shape->rank == 1 && (shape->type == EP_INT32 || shape->type == EP_INT64)) {
    if (!shape->is_constant)
      return ep_kernel_fail(ctx, node, EP_ERROR_UNSUPPORTED, "shape '%s' must be a constant", shape->name);
    rank = shape->dims[0];
    if (rank > EP_MAX_RANK) return ep_kernel_fail(ctx, node, EP_ERROR_UNSUPPORTED, "rank %d is too large", rank);
    for (int32_t i = 0; i < rank; i++) dims[i] = (int32_t)ep_index_at(shape, (size_t)i);
  } else {
    const int32_t *v = ep_opt_vec_i32(node, RESHAPE_OPT_NEW_SHAPE, &rank);
    if (!v && shape)
      return ep_kernel_fail(ctx, node, EP_ERROR_UNSUPPORTED, "shape '%s' is neither a vector nor in the options",
                            shape->name);
    if (rank > EP_MAX_RANK) return ep_kernel_fail(ctx, node, EP_ERROR_UNSUPPORTED, "rank %d is too large", rank);
    for (int32_t i = 0; i < rank; i++) dims[i] = v[i];
  }
  return set_resolved(ctx, node, rank, dims);
}

static ep_status prepare_squeeze(ep_context *ctx, ep_node *node) {
  ep_status st = ep_check_arity(ctx, node, 1, 1, 1);
  if (st != EP_OK) return st;
  ep_tensor *in = ep_input(ctx, node, 0);
  int32_t count, drop[EP_MAX_RANK] = {0}, dims[EP_MAX_RANK], rank = 0;
  const int32_t *axes = ep_opt_vec_i32(node, SQUEEZE_OPT_DIMS, &count);
  for (int32_t i = 0; i < count; i++) {
    int32_t a = ep_norm_axis(axes[i], in->rank);
    if (a < 0 || in->dims[a] != 1)
      return ep_kernel_fail(ctx, node, EP_ERROR_MODEL, "cannot squeeze axis %d of '%s'", axes[i], in->name);
    drop[a] = 1;
  }
  for (int32_t i = 0; i < in->rank; i++)
    if (!(count ? drop[i] : in->dims[i] == 1)) dims[rank++] = in->dims[i];
  return ep_set_shape(ctx, ep_output(ctx, node, 0), rank, dims);
}

static ep_status prepare_expand_dims(ep_context *ctx, ep_node *node) {
  ep_status st = ep_check_arity(ctx, node, 2, 2, 1);
  if (st != EP_OK) return st;
  ep_tensor *in = ep_input(ctx, node, 0), *axis_t = ep_input(ctx, node, 1);
  if (!axis_t->is_constant || ep_num_elements(axis_t) != 1 || (axis_t->type != EP_INT32 && axis_t->type != EP_INT64))
    return ep_kernel_fail(ctx, node, EP_ERROR_UNSUPPORTED, "axis '%s' must be a constant integer scalar",
                          axis_t->name);
  if (in->rank + 1 > EP_MAX_RANK) return ep_kernel_fail(ctx, node, EP_ERROR_UNSUPPORTED, "rank too large");
  int32_t axis = ep_norm_axis(ep_index_at(axis_t, 0), in->rank + 1);
  if (axis < 0) return ep_kernel_fail(ctx, node, EP_ERROR_MODEL, "axis out of range");
  int32_t dims[EP_MAX_RANK];
  for (int32_t i = 0, j = 0; i <= in->rank; i++) dims[i] = i == axis ? 1 : in->dims[j++];
  return ep_set_shape(ctx, ep_output(ctx, node, 0), in->rank + 1, dims);
}

const ep_kernel ep_kernels_reshape[] = {
    {EP_OP_RESHAPE, EP_ANY_DTYPE, EP_ISA_REF, EP_OPTIONS_ReshapeOptions, "reshape_any_ref", prepare_reshape,
     copy_eval},
    {EP_OP_SQUEEZE, EP_ANY_DTYPE, EP_ISA_REF, EP_OPTIONS_SqueezeOptions, "squeeze_any_ref", prepare_squeeze,
     copy_eval},
    {EP_OP_EXPAND_DIMS, EP_ANY_DTYPE, EP_ISA_REF, EP_OPTIONS_NONE, "expand_dims_any_ref", prepare_expand_dims,
     copy_eval},
    EP_KERNEL_END,
};
