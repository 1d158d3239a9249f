/* Float depthwise micro-kernels: one output pixel's channel block, accumulated over its in-image taps.
 *
 * Each tap is a pointer to the input pixel and one to its filter row (both indexed by channel). The 8 and 4
 * channel accumulators stay in SSE registers across the taps because the per-channel statements are written
 * out (basic-block vectorized) in their own translation unit, as for gemm_tile.h. */
#ifndef EP_KERNELS_DW_TILE_H
#define EP_KERNELS_DW_TILE_H

#include <stddef.h>
#include <stdint.h>

/* out[c0 + j] = clamp(bias[c0 + j] + sum_t x[t][c0 + j] * f[t][c0 + j], lo, hi) for j < 8 (resp. 4); bias may
 * be NULL. */
void ep_dw_tile8_f32(int ntaps, const float *const *x, const float *const *f, int32_t c0, const float *bias,
                     float lo, float hi, float *restrict out);
void ep_dw_tile4_f32(int ntaps, const float *const *x, const float *const *f, int32_t c0, const float *bias,
                     float lo, float hi, float *restrict out);

#endif
