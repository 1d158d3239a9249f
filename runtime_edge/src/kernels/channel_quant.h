/* Per-output-channel requantization shared by the convolution-like kernels (CONV_2D, DEPTHWISE_CONV_2D,
 * FULLY_CONNECTED): int8 or int16 activations, int8 weights with one scale per tensor or per output channel. */
#ifndef EP_KERNELS_CHANNEL_QUANT_H
#define EP_KERNELS_CHANNEL_QUANT_H

#include "../kernel.h"
#include "quant.h"

typedef struct ep_channel_requant {
  int32_t *multiplier, *shift; /* per output channel: input_scale * weight_scale / output_scale */
  int32_t input_offset;        /* -input zero point */
  int32_t output_offset;       /* output zero point */
  int32_t lo, hi;              /* fused activation clamp on the quantized output */
} ep_channel_requant;

/* Checks input 0, weights (input 1, int8, named `role`) and output 0, and fills r for `channels` outputs. */
ep_status ep_prepare_channel_requant(ep_context *ctx, const ep_node *node, int32_t channels, int activation,
                                    const char *role, ep_channel_requant *r);

/* The same for ops whose activation, weights and output are other operands (TRANSPOSE_CONV). */
ep_status ep_prepare_channel_requant_of(ep_context *ctx, const ep_node *node, const ep_tensor *in,
                                       const ep_tensor *w, const ep_tensor *out, int32_t channels, int activation,
                                       const char *role, ep_channel_requant *r);

/* 16x8 mode: the bias (may be NULL) must be int64 or int32. */
ep_status ep_check_bias_16x8(ep_context *ctx, const ep_node *node, const ep_tensor *bias);

/* Persistent per-channel sums of an int8 [n, k] weight matrix (for the input zero-point correction). */
int32_t *ep_weight_sums_s8(ep_context *ctx, const int8_t *w, int32_t n, int32_t k);

/* Output value of channel c from an int32 accumulator (int8 kernels). */
static inline int32_t ep_requant_s32(const ep_channel_requant *r, int32_t acc, int32_t c) {
  int32_t v = ep_mul_by_quantized_multiplier(acc, r->multiplier[c], r->shift[c]) + r->output_offset;
  return ep_clamp_i32(v, r->lo, r->hi);
}

/* Output value of channel c from a 64-bit accumulator (16x8 convolutions: 16-bit reduced multiplier). */
static inline int32_t ep_requant_s64(const ep_channel_requant *r, int64_t acc, int32_t c) {
  int32_t v = ep_mul_by_quantized_multiplier64(acc, r->multiplier[c], r->shift[c]) + r->output_offset;
  return ep_clamp_i32(v, r->lo, r->hi);
}

/* Bias value c of a 16x8 kernel, stored as int64 or int32. */
static inline int64_t ep_bias_16x8(const void *bias, int bias64, int32_t c) {
  if (!bias) return 0;
  return bias64 ? ((const int64_t *)bias)[c] : ((const int32_t *)bias)[c];
}

#endif
