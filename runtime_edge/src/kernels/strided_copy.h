/* Copy a strided view of a tensor into a contiguous output: the engine of the data-movement ops (TRANSPOSE,
 * SLICE, STRIDED_SLICE, TILE, BROADCAST_TO, SPACE_TO_DEPTH, DEPTH_TO_SPACE, ...). A view is an output shape
 * plus, per output axis, the element stride in the source (any sign, 0 to repeat) and a start offset.
 * Output rows (all axes but the last) are independent and split across threads; a row whose source stride
 * is 1 is one memcpy. Elements are moved as bytes, so one kernel serves every dtype. */
#ifndef EP_KERNELS_STRIDED_COPY_H
#define EP_KERNELS_STRIDED_COPY_H

#include <string.h>

#include "../kernel.h"

typedef struct ep_view {
  int32_t rank;
  int32_t dims[EP_MAX_RANK];
  int64_t strides[EP_MAX_RANK]; /* source element stride per output axis */
  int64_t offset;               /* source element index of output element 0 */
  size_t es;                    /* element size in bytes */
} ep_view;

/* Drops size-1 axes and merges axes that are contiguous in the source, so rows are as long as possible. */
static inline void ep_view_simplify(ep_view *v) {
  int32_t r = 0;
  for (int32_t k = 0; k < v->rank; k++) {
    if (v->dims[k] == 1) continue;
    if (r > 0 && v->strides[r - 1] == v->strides[k] * v->dims[k]) {
      v->dims[r - 1] *= v->dims[k];
      v->strides[r - 1] = v->strides[k];
      continue;
    }
    v->dims[r] = v->dims[k];
    v->strides[r] = v->strides[k];
    r++;
  }
  v->rank = r;
}

static inline int64_t ep_view_rows(const ep_view *v) {
  int64_t rows = 1;
  for (int32_t k = 0; k + 1 < v->rank; k++) rows *= v->dims[k];
  return rows;
}

typedef struct ep_view_job {
  const ep_view *v;
  const uint8_t *src;
  uint8_t *dst;
} ep_view_job;

static inline void ep_view_copy_rows(void *arg, int64_t begin, int64_t end, int thread) {
  (void)thread;
  const ep_view_job *j = arg;
  const ep_view *v = j->v;
  int64_t inner = v->rank ? v->dims[v->rank - 1] : 1, step = v->rank ? v->strides[v->rank - 1] : 0;
  size_t es = v->es;
  for (int64_t row = begin; row < end; row++) {
    int64_t off = v->offset, rest = row;
    for (int32_t k = v->rank - 2; k >= 0; k--) {
      off += (rest % v->dims[k]) * v->strides[k];
      rest /= v->dims[k];
    }
    uint8_t *dst = j->dst + (size_t)(row * inner) * es;
    const uint8_t *src = j->src + off * (int64_t)es;
    if (step == 1) {
      memcpy(dst, src, (size_t)inner * es);
      continue;
    }
    int64_t bstep = step * (int64_t)es;
    switch (es) {
      case 1:
        for (int64_t i = 0; i < inner; i++) dst[i] = src[i * bstep];
        break;
      case 2:
        for (int64_t i = 0; i < inner; i++) memcpy(dst + 2 * i, src + i * bstep, 2);
        break;
      case 4:
        for (int64_t i = 0; i < inner; i++) memcpy(dst + 4 * i, src + i * bstep, 4);
        break;
      default:
        for (int64_t i = 0; i < inner; i++) memcpy(dst + (size_t)i * es, src + i * bstep, es);
        break;
    }
  }
}

static inline void ep_view_copy(ep_context *ctx, const ep_view *v, const void *src, void *dst) {
  for (int32_t k = 0; k < v->rank; k++)
    if (v->dims[k] == 0) return;
  ep_view_job job = {v, src, dst};
  int64_t inner = v->rank ? v->dims[v->rank - 1] : 1;
  ep_parallel_for(ctx, ep_view_rows(v), 1 + 16384 / (inner * (int64_t)v->es), ep_view_copy_rows, &job);
}

/* Prepare's first step for a view kernel: a zeroed persistent view of `in`'s element size. */
static inline ep_status ep_view_alloc(ep_context *ctx, const ep_node *node, const ep_tensor *in, ep_view **out) {
  ep_view *v = *out = ep_alloc_persistent(ctx, sizeof *v);
  if (!v) return EP_ERROR_MEMORY;
  memset(v, 0, sizeof *v);
  v->es = ep_dtype_size(in->type);
  if (v->es) return EP_OK;
  return ep_kernel_fail(ctx, node, EP_ERROR_UNSUPPORTED, "%s tensor '%s' is not supported", ep_dtype_name(in->type),
                        in->name);
}

/* Prepare's last step: the output shape, and the simplified view kept in node->user_data for ep_view_eval. */
static inline ep_status ep_view_install(ep_context *ctx, ep_node *node, ep_view *v, int32_t out_rank,
                                        const int32_t *out_dims) {
  ep_status st = ep_set_shape(ctx, ep_output(ctx, node, 0), out_rank, out_dims);
  if (st != EP_OK) return st;
  ep_view_simplify(v);
  node->user_data = v;
  return EP_OK;
}

/* The eval of every view kernel: input 0 through the planned view into output 0. */
static inline ep_status ep_view_eval(ep_context *ctx, ep_node *node) {
  ep_view_copy(ctx, node->user_data, ep_input(ctx, node, 0)->data, ep_output(ctx, node, 0)->data);
  return EP_OK;
}

#endif
