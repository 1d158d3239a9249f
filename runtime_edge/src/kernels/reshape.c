/* Ops that only change the shape: RESHAPE, SQUEEZE, EXPAND_DIMS. Any dtype; the data is copied as bytes
 * (quantized tensors keep their parameters, which TFLite requires to be equal).
 *
 * RESHAPE's shape operand is usually constant, or becomes one when the interpreter folds the shape arithmetic
 * behind it (SHAPE outputs are constant at prepare). A shape computed from run-time data cannot size the
 * output at prepare (this runtime has no dynamic tensors), so the output keeps the static shape the model
 * declares for it, and eval checks that the operand's values resolve to exactly that shape. */
#include <string.h>

#include "../kernel.h"
#include "util.h"

enum { RESHAPE_OPT_NEW_SHAPE = 0, SQUEEZE_OPT_DIMS = 0 };

static ep_status copy_eval(ep_context *ctx, ep_node *node) {
  ep_tensor *in = ep_input(ctx, node, 0), *out = ep_output(ctx, node, 0);
  if (out->data != in->data && out->bytes) memcpy(out->data, in->data, out->bytes);
  return EP_OK;
}

/* Run-time shape operand: its values, with at most one -1 standing for the rest, must give the output's
 * static shape. */
static ep_status checked_copy_eval(ep_context *ctx, ep_node *node) {
  ep_tensor *in = ep_input(ctx, node, 0), *shape = ep_input(ctx, node, 1), *out = ep_output(ctx, node, 0);
  size_t total = ep_num_elements(in), known = 1;
  int unknown = -1, match = 1;
  for (int32_t i = 0; i < out->rank; i++) {
    int64_t d = ep_index_at(shape, (size_t)i);
    if (d == -1 && unknown < 0) {
      unknown = i;
      continue;
    }
    match &= d == out->dims[i];
    known *= (size_t)out->dims[i];
  }
  if (unknown >= 0) match &= known != 0 && known * (size_t)out->dims[unknown] == total;
  if (!match)
    return ep_kernel_fail(ctx, node, EP_ERROR_UNSUPPORTED,
                          "run-time shape '%s' differs from the static shape of output '%s' (dynamic output "
                          "shapes are not supported)", shape->name, out->name);
  return copy_eval(ctx, node);
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

/* The output keeps its declared shape, which must be static and hold the input's values; the operand's
 * length must be that rank. */
static ep_status prepare_runtime_shape(ep_context *ctx, ep_node *node) {
  ep_tensor *in = ep_input(ctx, node, 0), *shape = ep_input(ctx, node, 1), *out = ep_output(ctx, node, 0);
  size_t known = 1;
  for (int32_t i = 0; i < out->rank; i++) known *= (size_t)(out->dims[i] < 0 ? 0 : out->dims[i]);
  if (shape->dims[0] != out->rank || known != ep_num_elements(in))
    return ep_kernel_fail(ctx, node, EP_ERROR_UNSUPPORTED,
                          "shape '%s' is computed at run time and output '%s' has no static shape holding the "
                          "input's %zu values (dynamic output shapes are not supported)",
                          shape->name, out->name, ep_num_elements(in));
  node->user_data = shape; /* marks the run-time check for eval */
  int32_t dims[EP_MAX_RANK];
  memcpy(dims, out->dims, sizeof dims);
  return ep_set_shape(ctx, out, out->rank, dims);
}

static ep_status prepare_reshape(ep_context *ctx, ep_node *node) {
  ep_status st = ep_check_arity(ctx, node, 1, 2, 1);
  if (st != EP_OK) return st;
  ep_tensor *shape = ep_input(ctx, node, 1);
  int32_t dims[EP_MAX_RANK], rank;
  if (shape && shape->rank == 1 && (shape->type == EP_INT32 || shape->type == EP_INT64)) {
    if (!shape->is_constant) return prepare_runtime_shape(ctx, node);
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

static ep_status reshape_eval(ep_context *ctx, ep_node *node) {
  return node->user_data ? checked_copy_eval(ctx, node) : copy_eval(ctx, node);
}

const ep_kernel ep_kernels_reshape[] = {
    {EP_OP_RESHAPE, EP_ANY_DTYPE, EP_ISA_REF, EP_OPTIONS_ReshapeOptions, "reshape_any_ref", prepare_reshape,
     reshape_eval},
    {EP_OP_SQUEEZE, EP_ANY_DTYPE, EP_ISA_REF, EP_OPTIONS_SqueezeOptions, "squeeze_any_ref", prepare_squeeze,
     copy_eval},
    {EP_OP_EXPAND_DIMS, EP_ANY_DTYPE, EP_ISA_REF, EP_OPTIONS_NONE, "expand_dims_any_ref", prepare_expand_dims,
     copy_eval},
    EP_KERNEL_END,
};
