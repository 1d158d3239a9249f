/* On-the-fly input quantization of the hybrid kernels (int8 weights, float activations): CONV_2D,
 * DEPTHWISE_CONV_2D, FULLY_CONNECTED and BATCH_MATMUL quantize their float input row by row (a row is one batch
 * item of a convolution, one input vector of a matrix product) exactly as TFLite's tensor_utils do:
 *  - symmetric: scale = max|x| / 127, q = clamp(round(x * 127 / max|x|), -127, 127), zero point 0;
 *  - asymmetric: [min(x, 0), max(x, 0)] onto [-128, 127], the zero point taken from the end whose error is
 *    smaller and nudged into range; q = clamp(round(x / scale) + zero_point, -128, 127).
 * An all-zero row gets scale 1 and zero point 0. The rows, their scales and zero points share one scratch
 * buffer laid out by ep_hybrid_rows_*. */
#ifndef EP_KERNELS_HYBRID_H
#define EP_KERNELS_HYBRID_H

#include <stddef.h>
#include <stdint.h>

#include "../kernel.h"

typedef struct ep_hybrid_rows {
  int8_t *q;           /* rows x len quantized values */
  float *scale;        /* per row */
  int32_t *zero_point; /* per row */
} ep_hybrid_rows;

/* Scratch bytes for `rows` rows of `len` values with their parameters. */
size_t ep_hybrid_rows_bytes(int64_t rows, int64_t len);

/* The layout of such a scratch buffer. */
ep_hybrid_rows ep_hybrid_rows_at(void *scratch, int64_t rows, int64_t len);

/* Quantizes x ([rows, len] floats, row-major) into r, rows split across threads. */
void ep_hybrid_quantize(ep_context *ctx, const float *x, int64_t rows, int64_t len, int asymmetric,
                        const ep_hybrid_rows *r);

/* The hybrid kernels' constant-weight checks: `w` is a constant int8 tensor with 1 or `channels` scales and zero
 * zero points. Fills `scales` (persistent, `channels` values: per channel, or the one scale repeated) and sets
 * *per_channel (unless NULL) when the scales are not all equal. */
ep_status ep_hybrid_weight_scales(ep_context *ctx, const ep_node *node, const ep_tensor *w, int32_t channels,
                                  float **scales, int *per_channel);

#endif
