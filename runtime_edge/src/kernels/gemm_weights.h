/* The packed weights of a GEMM-based kernel (CONV_2D, FULLY_CONNECTED): `groups` consecutive [n, k] matrices,
 * packed group after group in gemm.h's panel layout. Constant weights are packed once at prepare; float
 * weights computed at run time (a float16 DEQUANTIZE that was not folded) are packed into scratch at every
 * eval. */
#ifndef EP_KERNELS_GEMM_WEIGHTS_H
#define EP_KERNELS_GEMM_WEIGHTS_H

#include "../kernel.h"
#include "gemm.h"

typedef struct ep_gemm_weights {
  int32_t groups, n, k;
  const void *packed; /* NULL when packed at eval */
  int slot;           /* scratch slot for packing at eval, -1 when unused */
} ep_gemm_weights;

/* Elements of one packed group. */
static inline size_t ep_gemm_group_count(const ep_gemm_weights *gw) { return ep_gemm_packed_count(gw->n, gw->k); }

ep_status ep_gemm_weights_prepare_f32(ep_context *ctx, ep_node *node, const ep_tensor *w, int32_t groups, int32_t n,
                                      int32_t k, ep_gemm_weights *gw);

/* The packed float weights at eval: the constant ones, or w packed now into scratch. */
const float *ep_gemm_weights_f32(ep_context *ctx, ep_node *node, const ep_tensor *w, const ep_gemm_weights *gw);

/* int8 weights must be constants (their sums feed the requantization); they are widened to int16 panels. */
ep_status ep_gemm_weights_prepare_s8(ep_context *ctx, const ep_tensor *w, int32_t groups, int32_t n, int32_t k,
                                     ep_gemm_weights *gw);

#endif
