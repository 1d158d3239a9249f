/* Small prepare-time checks shared by the kernel families, so every kernel words its errors the same way. */
#ifndef EP_KERNELS_UTIL_H
#define EP_KERNELS_UTIL_H

#include <string.h>

#include "../kernel.h"

/* The first `min_in` inputs must be present, at most `max_in` may be, and `n_out` outputs must exist. */
static inline ep_status ep_check_arity(ep_context *ctx, const ep_node *node, int min_in, int max_in, int n_out) {
  if (node->num_inputs < min_in || node->num_inputs > max_in || node->num_outputs != n_out)
    return ep_kernel_fail(ctx, node, EP_ERROR_MODEL, "expects %d..%d inputs and %d output(s), has %d and %d",
                          min_in, max_in, n_out, node->num_inputs, node->num_outputs);
  for (int i = 0; i < min_in; i++)
    if (!ep_input(ctx, node, i)) return ep_kernel_fail(ctx, node, EP_ERROR_MODEL, "input %d is missing", i);
  for (int i = 0; i < n_out; i++)
    if (!ep_output(ctx, node, i)) return ep_kernel_fail(ctx, node, EP_ERROR_MODEL, "output %d is missing", i);
  return EP_OK;
}

static inline ep_status ep_check_type(ep_context *ctx, const ep_node *node, const ep_tensor *t, int32_t type,
                                      const char *role) {
  if (t->type == type) return EP_OK;
  return ep_kernel_fail(ctx, node, EP_ERROR_UNSUPPORTED, "%s '%s' is %s, expected %s", role, t->name,
                        ep_dtype_name(t->type), ep_dtype_name(type));
}

static inline ep_status ep_check_rank(ep_context *ctx, const ep_node *node, const ep_tensor *t, int32_t rank,
                                      const char *role) {
  if (t->rank == rank) return EP_OK;
  return ep_kernel_fail(ctx, node, EP_ERROR_MODEL, "%s '%s' has rank %d, expected %d", role, t->name, t->rank,
                        rank);
}

/* Non-negative axis for a possibly negative one; -1 when out of [-rank, rank). */
static inline int32_t ep_norm_axis(int64_t axis, int32_t rank) {
  if (axis < -rank || axis >= rank) return -1;
  return (int32_t)(axis < 0 ? axis + rank : axis);
}

/* Integer tensor element i (int32 or int64) as int64; shape operands come in either type. */
static inline int64_t ep_index_at(const ep_tensor *t, size_t i) {
  return t->type == EP_INT64 ? ((const int64_t *)t->data)[i] : ((const int32_t *)t->data)[i];
}

/* Row-major strides of dims, in elements. */
static inline void ep_strides(int32_t rank, const int32_t *dims, int64_t *strides) {
  int64_t s = 1;
  for (int32_t k = rank - 1; k >= 0; k--) {
    strides[k] = s;
    s *= dims[k];
  }
}

/* Bytes per element of t; fails for dtypes without a fixed size (strings, resources, int4). */
static inline ep_status ep_element_size(ep_context *ctx, const ep_node *node, const ep_tensor *t, size_t *es) {
  *es = ep_dtype_size(t->type);
  if (*es) return EP_OK;
  return ep_kernel_fail(ctx, node, EP_ERROR_UNSUPPORTED, "%s tensor '%s' is not supported", ep_dtype_name(t->type),
                        t->name);
}

/* A constant integer vector operand (int32 or int64), e.g. perm, begin, paddings. */
static inline ep_status ep_check_const_index(ep_context *ctx, const ep_node *node, const ep_tensor *t,
                                             const char *role) {
  if (t->is_constant && (t->type == EP_INT32 || t->type == EP_INT64)) return EP_OK;
  return ep_kernel_fail(ctx, node, EP_ERROR_UNSUPPORTED, "%s '%s' must be a constant int32 or int64 tensor", role,
                        t->name);
}

/* One rank-4 (NHWC) input and one output of the same dtype: pooling and space/depth rearrangements. */
static inline ep_status ep_check_nhwc_unary(ep_context *ctx, const ep_node *node) {
  ep_status st = ep_check_arity(ctx, node, 1, 1, 1);
  if (st != EP_OK) return st;
  ep_tensor *in = ep_input(ctx, node, 0);
  if ((st = ep_check_rank(ctx, node, in, 4, "input")) != EP_OK) return st;
  return ep_check_type(ctx, node, ep_output(ctx, node, 0), in->type, "output");
}

/* A convolution's operands: input and filter (both rank 4), optional bias, one output. */
static inline ep_status ep_check_conv_operands(ep_context *ctx, const ep_node *node) {
  ep_status st = ep_check_arity(ctx, node, 2, 3, 1);
  if (st != EP_OK) return st;
  if ((st = ep_check_rank(ctx, node, ep_input(ctx, node, 0), 4, "input")) != EP_OK) return st;
  return ep_check_rank(ctx, node, ep_input(ctx, node, 1), 4, "filter");
}

/* An optional per-channel operand (bias) holds one value per output channel. */
static inline ep_status ep_check_channel_count(ep_context *ctx, const ep_node *node, const ep_tensor *t,
                                               int32_t channels) {
  if (!t || (int64_t)ep_num_elements(t) == channels) return EP_OK;
  return ep_kernel_fail(ctx, node, EP_ERROR_MODEL, "bias '%s' has %zu values for %d output channels", t->name,
                        ep_num_elements(t), channels);
}

/* The float side of a CONV_2D / DEPTHWISE_CONV_2D / FULLY_CONNECTED (float or hybrid weights): an optional float32
 * bias, a float32 output, and the clamp range of the fused activation. */
static inline ep_status ep_check_float_epilogue(ep_context *ctx, const ep_node *node, const ep_tensor *bias,
                                               int activation, float *lo, float *hi) {
  ep_status st;
  if (bias && (st = ep_check_type(ctx, node, bias, EP_FLOAT32, "bias")) != EP_OK) return st;
  if ((st = ep_check_type(ctx, node, ep_output(ctx, node, 0), EP_FLOAT32, "output")) != EP_OK) return st;
  return ep_activation_range_f32(ctx, node, activation, lo, hi);
}

static inline ep_status ep_copy_shape(ep_context *ctx, ep_tensor *out, const ep_tensor *in) {
  return ep_set_shape(ctx, out, in->rank, in->dims);
}

#endif
