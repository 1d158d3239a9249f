/* CONCATENATION, SPLIT and SPLIT_V along one axis, any dtype. Seen as [outer, axis * inner] matrices, each
 * operation is a sequence of contiguous block copies per outer index. Quantized concatenation needs equal
 * scales and zero points on all inputs and the output, as TFLite's int8/int16 kernels require, so no
 * requantization happens. */
#include <string.h>

#include "../kernel.h"
#include "quant.h"
#include "util.h"

enum { CONCAT_OPT_AXIS = 0, CONCAT_OPT_ACTIVATION = 1, SPLIT_OPT_NUM = 0 };

/* Geometry: `outer` rows; the axis of each piece scaled by `inner * element size` gives its block bytes. */
typedef struct axis_plan {
  int64_t outer;
  size_t inner_bytes; /* bytes of one index step along the axis */
  int64_t total;      /* axis length of the whole tensor */
} axis_plan;

static void axis_geometry(const ep_tensor *t, int32_t axis, size_t es, axis_plan *p) {
  p->outer = 1;
  p->inner_bytes = es;
  for (int32_t i = 0; i < axis; i++) p->outer *= t->dims[i];
  for (int32_t i = axis + 1; i < t->rank; i++) p->inner_bytes *= (size_t)t->dims[i];
  p->total = t->dims[axis];
}

static ep_status prepare_concat(ep_context *ctx, ep_node *node) {
  if (node->num_inputs < 1 || node->num_outputs != 1)
    return ep_kernel_fail(ctx, node, EP_ERROR_MODEL, "needs at least 1 input and 1 output");
  ep_tensor *first = ep_input(ctx, node, 0), *out = ep_output(ctx, node, 0);
  if (!first || !out) return ep_kernel_fail(ctx, node, EP_ERROR_MODEL, "missing tensor");
  if (ep_opt_i8(node, CONCAT_OPT_ACTIVATION, EP_ACT_NONE) != EP_ACT_NONE)
    return ep_kernel_fail(ctx, node, EP_ERROR_UNSUPPORTED, "a fused activation is not supported");
  int32_t axis = ep_norm_axis(ep_opt_i32(node, CONCAT_OPT_AXIS, 0), first->rank);
  if (axis < 0) return ep_kernel_fail(ctx, node, EP_ERROR_MODEL, "axis out of range for rank %d", first->rank);
  ep_status st;
  size_t es;
  if ((st = ep_element_size(ctx, node, first, &es)) != EP_OK) return st;
  if ((st = ep_check_type(ctx, node, out, first->type, "output")) != EP_OK) return st;
  int quantized = first->type == EP_INT8 || first->type == EP_INT16 || first->type == EP_UINT8;
  int32_t dims[EP_MAX_RANK];
  memcpy(dims, first->dims, sizeof dims);
  dims[axis] = 0;
  for (int i = 0; i < node->num_inputs; i++) {
    ep_tensor *t = ep_input(ctx, node, i);
    if (!t) return ep_kernel_fail(ctx, node, EP_ERROR_MODEL, "input %d is missing", i);
    if ((st = ep_check_type(ctx, node, t, first->type, "input")) != EP_OK) return st;
    if (t->rank != first->rank)
      return ep_kernel_fail(ctx, node, EP_ERROR_MODEL, "input '%s' has rank %d, expected %d", t->name, t->rank,
                            first->rank);
    for (int32_t k = 0; k < t->rank; k++)
      if (k != axis && t->dims[k] != first->dims[k])
        return ep_kernel_fail(ctx, node, EP_ERROR_MODEL, "input '%s' differs from '%s' in dimension %d", t->name,
                              first->name, k);
    if (quantized && (ep_scale(t) != ep_scale(out) || ep_zero_point(t) != ep_zero_point(out)))
      return ep_kernel_fail(ctx, node, EP_ERROR_UNSUPPORTED,
                            "quantized input '%s' must share the output's scale and zero point", t->name);
    dims[axis] += t->dims[axis];
  }
  int32_t *axis_store = ep_alloc_persistent(ctx, sizeof *axis_store);
  if (!axis_store) return EP_ERROR_MEMORY;
  *axis_store = axis;
  node->user_data = axis_store;
  return ep_set_shape(ctx, out, first->rank, dims);
}

static ep_status eval_concat(ep_context *ctx, ep_node *node) {
  int32_t axis = *(const int32_t *)node->user_data;
  ep_tensor *out = ep_output(ctx, node, 0);
  axis_plan po;
  axis_geometry(out, axis, ep_dtype_size(out->type), &po);
  size_t row_bytes = (size_t)po.total * po.inner_bytes, done = 0;
  for (int i = 0; i < node->num_inputs; i++) {
    ep_tensor *t = ep_input(ctx, node, i);
    size_t block = (size_t)t->dims[axis] * po.inner_bytes;
    const uint8_t *src = t->data;
    uint8_t *dst = (uint8_t *)out->data + done;
    for (int64_t o = 0; o < po.outer && block; o++) memcpy(dst + (size_t)o * row_bytes, src + (size_t)o * block, block);
    done += block;
  }
  return EP_OK;
}

/* SPLIT (axis, input) and SPLIT_V (input, size_splits, axis): piece i covers sizes[i] indices of the axis. */
typedef struct split_params {
  int32_t axis;
  int32_t count;
  int32_t sizes[];
} split_params;

static ep_status prepare_split_common(ep_context *ctx, ep_node *node, ep_tensor *in, ep_tensor *axis_t,
                                      ep_tensor *sizes_t) {
  ep_status st;
  if ((st = ep_check_const_index(ctx, node, axis_t, "axis")) != EP_OK) return st;
  int32_t axis = ep_norm_axis(ep_index_at(axis_t, 0), in->rank);
  if (axis < 0) return ep_kernel_fail(ctx, node, EP_ERROR_MODEL, "axis out of range for rank %d", in->rank);
  int32_t count = node->num_outputs;
  split_params *p = ep_alloc_persistent(ctx, sizeof *p + sizeof(int32_t) * (size_t)count);
  if (!p) return EP_ERROR_MEMORY;
  p->axis = axis;
  p->count = count;
  if (!sizes_t) {
    if (count < 1 || in->dims[axis] % count != 0)
      return ep_kernel_fail(ctx, node, EP_ERROR_MODEL, "axis of size %d does not split into %d equal parts",
                            in->dims[axis], count);
    for (int32_t i = 0; i < count; i++) p->sizes[i] = in->dims[axis] / count;
  } else {
    if ((st = ep_check_const_index(ctx, node, sizes_t, "size_splits")) != EP_OK) return st;
    if ((int32_t)ep_num_elements(sizes_t) != count)
      return ep_kernel_fail(ctx, node, EP_ERROR_MODEL, "size_splits has %zu entries for %d outputs",
                            ep_num_elements(sizes_t), count);
    int64_t sum = 0;
    int32_t unknown = -1;
    for (int32_t i = 0; i < count; i++) {
      p->sizes[i] = (int32_t)ep_index_at(sizes_t, (size_t)i);
      if (p->sizes[i] == -1 && unknown < 0) unknown = i;
      else if (p->sizes[i] < 0) return ep_kernel_fail(ctx, node, EP_ERROR_MODEL, "invalid split size %d", p->sizes[i]);
      else sum += p->sizes[i];
    }
    if (unknown >= 0) p->sizes[unknown] = (int32_t)(in->dims[axis] - sum);
    if (unknown >= 0 ? p->sizes[unknown] < 0 : sum != in->dims[axis])
      return ep_kernel_fail(ctx, node, EP_ERROR_MODEL, "split sizes do not add up to %d", in->dims[axis]);
  }
  for (int32_t i = 0; i < count; i++) {
    ep_tensor *o = ep_output(ctx, node, i);
    if (!o) return ep_kernel_fail(ctx, node, EP_ERROR_MODEL, "output %d is missing", i);
    if ((st = ep_check_type(ctx, node, o, in->type, "output")) != EP_OK) return st;
    int32_t dims[EP_MAX_RANK];
    memcpy(dims, in->dims, sizeof dims);
    dims[axis] = p->sizes[i];
    if ((st = ep_set_shape(ctx, o, in->rank, dims)) != EP_OK) return st;
  }
  size_t es;
  if ((st = ep_element_size(ctx, node, in, &es)) != EP_OK) return st;
  node->user_data = p;
  return EP_OK;
}

static ep_status prepare_split(ep_context *ctx, ep_node *node) {
  ep_tensor *axis_t = ep_input(ctx, node, 0), *in = ep_input(ctx, node, 1);
  if (node->num_inputs != 2 || !axis_t || !in || node->num_outputs < 1)
    return ep_kernel_fail(ctx, node, EP_ERROR_MODEL, "expects (axis, input) and at least one output");
  if (ep_opt_i32(node, SPLIT_OPT_NUM, node->num_outputs) != node->num_outputs)
    return ep_kernel_fail(ctx, node, EP_ERROR_MODEL, "num_splits differs from the number of outputs");
  return prepare_split_common(ctx, node, in, axis_t, NULL);
}

static ep_status prepare_split_v(ep_context *ctx, ep_node *node) {
  ep_tensor *in = ep_input(ctx, node, 0), *sizes = ep_input(ctx, node, 1), *axis_t = ep_input(ctx, node, 2);
  if (node->num_inputs != 3 || !in || !sizes || !axis_t || node->num_outputs < 1)
    return ep_kernel_fail(ctx, node, EP_ERROR_MODEL, "expects (input, size_splits, axis) and at least one output");
  return prepare_split_common(ctx, node, in, axis_t, sizes);
}

static ep_status eval_split_from(ep_context *ctx, ep_node *node, const ep_tensor *in) {
  const split_params *p = node->user_data;
  axis_plan pi;
  axis_geometry(in, p->axis, ep_dtype_size(in->type), &pi);
  size_t row_bytes = (size_t)pi.total * pi.inner_bytes, done = 0;
  for (int32_t i = 0; i < p->count; i++) {
    size_t block = (size_t)p->sizes[i] * pi.inner_bytes;
    uint8_t *dst = ep_output(ctx, node, i)->data;
    const uint8_t *src = (const uint8_t *)in->data + done;
    for (int64_t o = 0; o < pi.outer && block; o++) memcpy(dst + (size_t)o * block, src + (size_t)o * row_bytes, block);
    done += block;
  }
  return EP_OK;
}

static ep_status eval_split(ep_context *ctx, ep_node *node) { return eval_split_from(ctx, node, ep_input(ctx, node, 1)); }
static ep_status eval_split_v(ep_context *ctx, ep_node *node) { return eval_split_from(ctx, node, ep_input(ctx, node, 0)); }

const ep_kernel ep_kernels_concat_split[] = {
    {EP_OP_CONCATENATION, EP_ANY_DTYPE, EP_ISA_REF, EP_OPTIONS_ConcatenationOptions, "concat_any_ref",
     prepare_concat, eval_concat},
    {EP_OP_SPLIT, EP_ANY_DTYPE, EP_ISA_REF, EP_OPTIONS_SplitOptions, "split_any_ref", prepare_split, eval_split},
    {EP_OP_SPLIT_V, EP_ANY_DTYPE, EP_ISA_REF, EP_OPTIONS_SplitVOptions, "split_v_any_ref", prepare_split_v,
     eval_split_v},
    EP_KERNEL_END,
};
