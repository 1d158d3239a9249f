/* SLICE and STRIDED_SLICE with constant begin/size/end/strides, any dtype: the slice is planned once at
 * prepare as a strided view of the input (strided_copy.h).
 * STRIDED_SLICE follows TFLite's index rules: new_axis_mask inserts size-1 axes, an ellipsis expands to the
 * axes the spec leaves out, begin/end masks select the whole range in the stride's direction, negative
 * indices count from the end and are clamped, shrink_axis_mask keeps only index `begin` and drops the axis. */
#include "../kernel.h"
#include "strided_copy.h"
#include "util.h"

/* StridedSliceOptions field slots (schema.fbs). */
enum { OPT_BEGIN_MASK = 0, OPT_END_MASK = 1, OPT_ELLIPSIS_MASK = 2, OPT_NEW_AXIS_MASK = 3, OPT_SHRINK_MASK = 4,
       OPT_OFFSET = 5 };

static ep_status prepare_slice(ep_context *ctx, ep_node *node) {
  ep_status st = ep_check_arity(ctx, node, 3, 3, 1);
  if (st != EP_OK) return st;
  ep_tensor *in = ep_input(ctx, node, 0), *begin = ep_input(ctx, node, 1), *size = ep_input(ctx, node, 2);
  if ((st = ep_check_const_index(ctx, node, begin, "begin")) != EP_OK) return st;
  if ((st = ep_check_const_index(ctx, node, size, "size")) != EP_OK) return st;
  if ((int32_t)ep_num_elements(begin) != in->rank || (int32_t)ep_num_elements(size) != in->rank)
    return ep_kernel_fail(ctx, node, EP_ERROR_MODEL, "begin and size need %d entries", in->rank);
  ep_view *v;
  if ((st = ep_view_alloc(ctx, node, in, &v)) != EP_OK) return st;
  int64_t strides[EP_MAX_RANK];
  ep_strides(in->rank, in->dims, strides);
  v->rank = in->rank;
  for (int32_t i = 0; i < in->rank; i++) {
    int64_t b = ep_index_at(begin, (size_t)i), s = ep_index_at(size, (size_t)i);
    if (s == -1) s = in->dims[i] - b;
    if (b < 0 || s < 0 || b + s > in->dims[i])
      return ep_kernel_fail(ctx, node, EP_ERROR_MODEL, "slice [%lld, +%lld) is outside axis %d of size %d",
                            (long long)b, (long long)s, i, in->dims[i]);
    v->dims[i] = (int32_t)s;
    v->strides[i] = strides[i];
    v->offset += b * strides[i];
  }
  return ep_view_install(ctx, node, v, v->rank, v->dims);
}

static int64_t clamp64(int64_t v, int64_t lo, int64_t hi) { return v < lo ? lo : (v > hi ? hi : v); }

/* TFLite's StartForAxis / StopForAxis on one (effective) axis. */
static int64_t start_for_axis(int64_t start, int64_t stride, int masked, int64_t size) {
  if (size == 0) return 0;
  if (masked) start = stride > 0 ? INT32_MIN : INT32_MAX;
  if (start < 0) start += size;
  return stride > 0 ? clamp64(start, 0, size) : clamp64(start, -1, size - 1);
}

static int64_t stop_for_axis(int64_t stop, int64_t stride, int masked, int64_t size) {
  if (size == 0) return 0;
  if (masked) stop = stride > 0 ? INT32_MAX : INT32_MIN;
  if (stop < 0) stop += size;
  return stride > 0 ? clamp64(stop, 0, size) : clamp64(stop, -1, size - 1);
}

static ep_status prepare_strided(ep_context *ctx, ep_node *node) {
  ep_status st = ep_check_arity(ctx, node, 4, 4, 1);
  if (st != EP_OK) return st;
  ep_tensor *in = ep_input(ctx, node, 0), *tb = ep_input(ctx, node, 1), *te = ep_input(ctx, node, 2);
  ep_tensor *ts = ep_input(ctx, node, 3);
  if ((st = ep_check_const_index(ctx, node, tb, "begin")) != EP_OK) return st;
  if ((st = ep_check_const_index(ctx, node, te, "end")) != EP_OK) return st;
  if ((st = ep_check_const_index(ctx, node, ts, "strides")) != EP_OK) return st;
  int32_t n = (int32_t)ep_num_elements(tb);
  if ((int32_t)ep_num_elements(te) != n || (int32_t)ep_num_elements(ts) != n || n > EP_MAX_RANK)
    return ep_kernel_fail(ctx, node, EP_ERROR_MODEL, "begin, end and strides need the same length (<= %d)",
                          EP_MAX_RANK);
  if (ep_opt_bool(node, OPT_OFFSET, 0))
    return ep_kernel_fail(ctx, node, EP_ERROR_UNSUPPORTED, "offset = true is not supported");
  uint32_t bmask = (uint32_t)ep_opt_i32(node, OPT_BEGIN_MASK, 0), emask = (uint32_t)ep_opt_i32(node, OPT_END_MASK, 0);
  uint32_t ellipsis = (uint32_t)ep_opt_i32(node, OPT_ELLIPSIS_MASK, 0);
  uint32_t new_axis = (uint32_t)ep_opt_i32(node, OPT_NEW_AXIS_MASK, 0);
  uint32_t shrink = (uint32_t)ep_opt_i32(node, OPT_SHRINK_MASK, 0);

  /* Expand the spec to one entry per axis of the input with its new axes inserted ("effective" axes). */
  int32_t added = 0;
  for (int32_t i = 0; i < n; i++)
    if (!(ellipsis & (1u << i)) && (new_axis & (1u << i))) added++;
  int32_t rank = in->rank + added;
  if (rank > EP_MAX_RANK) return ep_kernel_fail(ctx, node, EP_ERROR_UNSUPPORTED, "rank %d is too large", rank);
  uint32_t eff_ellipsis = 0, eff_new_axis = 0;
  int32_t expanded = 0;
  int32_t ellipsis_start = rank;
  for (int32_t i = 0; i < rank;) {
    if (ellipsis & (1u << i)) {
      ellipsis_start = i;
      int32_t stop = i + 1 + added + in->rank - n;
      stop = stop < rank ? stop : rank;
      stop = stop > i + 1 ? stop : i + 1;
      expanded = stop - i - 1;
      for (; i < stop; i++) eff_ellipsis |= 1u << i;
      continue;
    }
    if (i - expanded >= 0 && (new_axis & (1u << (i - expanded)))) eff_new_axis |= 1u << i;
    i++;
  }
  int64_t shape[EP_MAX_RANK], start[EP_MAX_RANK], stop[EP_MAX_RANK], step[EP_MAX_RANK];
  uint32_t b_eff = 0, e_eff = 0, s_eff = 0;
  int32_t inserted = 0;
  for (int32_t i = 0; i < rank; i++) {
    start[i] = stop[i] = 0;
    step[i] = 1;
    if (eff_ellipsis & (1u << i)) {
      b_eff |= 1u << i;
      e_eff |= 1u << i;
      shape[i] = in->dims[i - inserted];
    } else if (eff_new_axis & (1u << i)) {
      stop[i] = 1;
      shape[i] = 1;
      inserted++;
    } else if (i >= n + expanded) {
      b_eff |= 1u << i;
      e_eff |= 1u << i;
      shape[i] = in->dims[i - inserted];
    } else {
      int32_t o = i - (i > ellipsis_start ? (i - ellipsis_start < expanded ? i - ellipsis_start : expanded) : 0);
      start[i] = ep_index_at(tb, (size_t)o);
      stop[i] = ep_index_at(te, (size_t)o);
      step[i] = ep_index_at(ts, (size_t)o);
      if (bmask & (1u << o)) b_eff |= 1u << i;
      if (emask & (1u << o)) e_eff |= 1u << i;
      if (shrink & (1u << o)) s_eff |= 1u << i;
      shape[i] = in->dims[i - inserted];
    }
  }

  ep_view *v;
  if ((st = ep_view_alloc(ctx, node, in, &v)) != EP_OK) return st;
  int64_t strides[EP_MAX_RANK], s = 1;
  for (int32_t i = rank - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i];
  }
  int32_t out_dims[EP_MAX_RANK], out_rank = 0;
  v->rank = rank;
  for (int32_t i = 0; i < rank; i++) {
    if (step[i] == 0) return ep_kernel_fail(ctx, node, EP_ERROR_MODEL, "stride of axis %d is zero", i);
    int64_t b = start_for_axis(start[i], step[i], (b_eff >> i) & 1, shape[i]);
    int64_t e = (s_eff >> i) & 1 ? b + 1 : stop_for_axis(stop[i], step[i], (e_eff >> i) & 1, shape[i]);
    int64_t count = step[i] > 0 ? (e > b ? (e - b + step[i] - 1) / step[i] : 0)
                                : (b > e ? (b - e - step[i] - 1) / -step[i] : 0);
    v->dims[i] = (int32_t)count;
    v->strides[i] = strides[i] * step[i];
    v->offset += (count ? b : 0) * strides[i];
    if (!((s_eff >> i) & 1)) out_dims[out_rank++] = (int32_t)count;
  }
  return ep_view_install(ctx, node, v, out_rank, out_dims);
}

const ep_kernel ep_kernels_slice[] = {
    {EP_OP_SLICE, EP_ANY_DTYPE, EP_ISA_REF, EP_OPTIONS_NONE, "slice_any_ref", prepare_slice, ep_view_eval},
    {EP_OP_STRIDED_SLICE, EP_ANY_DTYPE, EP_ISA_REF, EP_OPTIONS_StridedSliceOptions, "strided_slice_any_ref",
     prepare_strided, ep_view_eval},
    EP_KERNEL_END,
};
