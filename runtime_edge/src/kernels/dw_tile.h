/* Float depthwise micro-kernels: a run of output pixels of one output row, one channel block at a time,
 * each pixel accumulated over the same set of in-image taps.
 *
 * A tap is a pointer to the input pixel feeding the run's first output pixel and one to its filter row
 * (both indexed by channel); the next output pixel reads `step` elements further. The 8 and 4 channel
 * accumulators stay in SSE registers across the taps because the per-channel statements are written out
 * (basic-block vectorized) in their own translation unit, as in gemm_tile.h. */
#ifndef EP_KERNELS_DW_TILE_H
#define EP_KERNELS_DW_TILE_H

#include <stddef.h>
#include <stdint.h>

typedef struct ep_dw_run {
  int ntaps;
  const float *const *x, *const *f; /* ntaps input and filter pointers */
  int64_t step;                     /* input elements between consecutive output pixels */
  const float *bias;                /* may be NULL */
  float lo, hi;
} ep_dw_run;

/* out[p * out_step + c0 + j] = clamp(bias + sum_t x[t][p * step + c0 + j] * f[t][c0 + j]) for p < npix and
 * j < 8 (resp. 4). */
void ep_dw_tile8_f32(const ep_dw_run *r, int32_t npix, int32_t c0, float *out, int64_t out_step);
void ep_dw_tile4_f32(const ep_dw_run *r, int32_t npix, int32_t c0, float *out, int64_t out_step);

#endif
