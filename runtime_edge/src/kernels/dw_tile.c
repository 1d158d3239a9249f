/* Reference float depthwise micro-kernels (see dw_tile.h). The accumulators start at zero and the bias is
 * added at the end: a bias-initialized accumulator makes GCC give up the basic-block vectorization. */
#include "dw_tile.h"

static float clampf(float v, float lo, float hi) { return v < lo ? lo : (v > hi ? hi : v); }

static void finish(const float *restrict c, int n, const float *restrict bias, float lo, float hi,
                   float *restrict out) {
  if (bias)
    for (int j = 0; j < n; j++) out[j] = clampf(c[j] + bias[j], lo, hi);
  else
    for (int j = 0; j < n; j++) out[j] = clampf(c[j], lo, hi);
}

void ep_dw_tile8_f32(int ntaps, const float *const *x, const float *const *f, int32_t c0, const float *bias,
                     float lo, float hi, float *restrict out) {
  float c[8] = {0};
  for (int t = 0; t < ntaps; t++) {
    const float *xp = x[t] + c0, *fp = f[t] + c0;
    c[0] += xp[0] * fp[0], c[1] += xp[1] * fp[1], c[2] += xp[2] * fp[2], c[3] += xp[3] * fp[3];
    c[4] += xp[4] * fp[4], c[5] += xp[5] * fp[5], c[6] += xp[6] * fp[6], c[7] += xp[7] * fp[7];
  }
  finish(c, 8, bias ? bias + c0 : NULL, lo, hi, out + c0);
}

void ep_dw_tile4_f32(int ntaps, const float *const *x, const float *const *f, int32_t c0, const float *bias,
                     float lo, float hi, float *restrict out) {
  float c[4] = {0};
  for (int t = 0; t < ntaps; t++) {
    const float *xp = x[t] + c0, *fp = f[t] + c0;
    c[0] += xp[0] * fp[0], c[1] += xp[1] * fp[1], c[2] += xp[2] * fp[2], c[3] += xp[3] * fp[3];
  }
  finish(c, 4, bias ? bias + c0 : NULL, lo, hi, out + c0);
}
