/* SHAPE: the dims of its input as an int32 or int64 vector (ShapeOptions.out_type), for any input dtype.
 *
 * The value depends only on the input's shape, which is known at prepare, so prepare computes it and marks the
 * output constant (as TFLite makes it persistent read-only): the interpreter then folds the shape arithmetic
 * that consumes it, and RESHAPE/TILE/... downstream see constant shape operands. */
#include "../kernel.h"
#include "util.h"

enum { OPT_OUT_TYPE = 0 };

static void write_dims(const ep_tensor *in, ep_tensor *out) {
  for (int32_t i = 0; i < in->rank; i++) {
    if (out->type == EP_INT64)
      ((int64_t *)out->data)[i] = in->dims[i];
    else
      ((int32_t *)out->data)[i] = in->dims[i];
  }
}

static ep_status prepare(ep_context *ctx, ep_node *node) {
  ep_status st = ep_check_arity(ctx, node, 1, 1, 1);
  if (st != EP_OK) return st;
  ep_tensor *in = ep_input(ctx, node, 0), *out = ep_output(ctx, node, 0);
  int32_t out_type = ep_opt_i8(node, OPT_OUT_TYPE, EP_INT32);
  if (out_type != EP_INT32 && out_type != EP_INT64)
    return ep_kernel_fail(ctx, node, EP_ERROR_UNSUPPORTED, "out_type %s is not supported", ep_dtype_name(out_type));
  if ((st = ep_check_type(ctx, node, out, out_type, "output")) != EP_OK) return st;
  int32_t rank = in->rank;
  if ((st = ep_set_shape(ctx, out, 1, &rank)) != EP_OK) return st;
  out->data = ep_alloc_persistent(ctx, out->bytes ? out->bytes : 1);
  if (!out->data) return EP_ERROR_MEMORY;
  write_dims(in, out);
  out->is_constant = 1;
  return EP_OK;
}

static ep_status eval(ep_context *ctx, ep_node *node) {
  write_dims(ep_input(ctx, node, 0), ep_output(ctx, node, 0));
  return EP_OK;
}

const ep_kernel ep_kernels_shape[] = {
    {EP_OP_SHAPE, EP_ANY_DTYPE, EP_ISA_REF, EP_OPTIONS_ShapeOptions, "shape_any_ref", prepare, eval},
    EP_KERNEL_END,
};
