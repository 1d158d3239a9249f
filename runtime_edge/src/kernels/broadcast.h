/* NumPy-style broadcasting of two tensors for binary elementwise kernels (ADD, SUB, MUL, ...).
 * Dimensions are aligned at the right; a size-1 dimension stretches. Strides of stretched dimensions are 0,
 * so output element (i0..in) reads a at sum(i_k * stride_a[k]). */
#ifndef EP_KERNELS_BROADCAST_H
#define EP_KERNELS_BROADCAST_H

#include "../kernel.h"

typedef struct ep_broadcast {
  int32_t rank;
  int32_t dims[EP_MAX_RANK];
  int64_t stride_a[EP_MAX_RANK];
  int64_t stride_b[EP_MAX_RANK];
} ep_broadcast;

/* Fills `out` and returns 1, or returns 0 when the shapes are incompatible. */
static inline int ep_broadcast_shapes(const ep_tensor *a, const ep_tensor *b, ep_broadcast *out) {
  int32_t rank = a->rank > b->rank ? a->rank : b->rank;
  int64_t sa = 1, sb = 1;
  out->rank = rank;
  for (int32_t k = rank - 1; k >= 0; k--) {
    int32_t ia = k - (rank - a->rank), ib = k - (rank - b->rank);
    int32_t da = ia >= 0 ? a->dims[ia] : 1, db = ib >= 0 ? b->dims[ib] : 1;
    if (da != db && da != 1 && db != 1) return 0;
    out->dims[k] = da == 1 ? db : da;
    out->stride_a[k] = da == 1 ? 0 : sa;
    out->stride_b[k] = db == 1 ? 0 : sb;
    sa *= da;
    sb *= db;
  }
  return 1;
}

/* Offsets into a and b of the first element of output row `row` (all dimensions but the last). */
static inline void ep_broadcast_row(const ep_broadcast *bc, int64_t row, int64_t *off_a, int64_t *off_b) {
  int64_t oa = 0, ob = 0;
  for (int32_t k = bc->rank - 2; k >= 0; k--) {
    int64_t i = row % bc->dims[k];
    row /= bc->dims[k];
    oa += i * bc->stride_a[k];
    ob += i * bc->stride_b[k];
  }
  *off_a = oa;
  *off_b = ob;
}

#endif
