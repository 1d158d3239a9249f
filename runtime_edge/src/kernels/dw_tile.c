/* Reference float depthwise micro-kernels (see dw_tile.h). The accumulators start at zero and the bias is
 * added at the end: a bias-initialized accumulator makes GCC give up the basic-block vectorization. */
#include "dw_tile.h"

static void finish(const float *restrict c, int n, const float *restrict bias, float lo, float hi,
                   float *restrict out) {
  float v[8];
  if (bias)
    for (int j = 0; j < n; j++) v[j] = c[j] + bias[j];
  else
    for (int j = 0; j < n; j++) v[j] = c[j];
  for (int j = 0; j < n; j++) out[j] = v[j] < lo ? lo : (v[j] > hi ? hi : v[j]);
}

void ep_dw_tile8_f32(const ep_dw_run *r, int32_t npix, int32_t c0, float *out, int64_t out_step) {
  const float *bias = r->bias ? r->bias + c0 : NULL;
  for (int32_t p = 0; p < npix; p++) {
    float c[8] = {0};
    int64_t off = p * r->step + c0;
    for (int t = 0; t < r->ntaps; t++) {
      const float *xp = r->x[t] + off, *fp = r->f[t] + c0;
      c[0] += xp[0] * fp[0], c[1] += xp[1] * fp[1], c[2] += xp[2] * fp[2], c[3] += xp[3] * fp[3];
      c[4] += xp[4] * fp[4], c[5] += xp[5] * fp[5], c[6] += xp[6] * fp[6], c[7] += xp[7] * fp[7];
    }
    finish(c, 8, bias, r->lo, r->hi, out + p * out_step + c0);
  }
}

void ep_dw_tile4_f32(const ep_dw_run *r, int32_t npix, int32_t c0, float *out, int64_t out_step) {
  const float *bias = r->bias ? r->bias + c0 : NULL;
  for (int32_t p = 0; p < npix; p++) {
    float c[4] = {0};
    int64_t off = p * r->step + c0;
    for (int t = 0; t < r->ntaps; t++) {
      const float *xp = r->x[t] + off, *fp = r->f[t] + c0;
      c[0] += xp[0] * fp[0], c[1] += xp[1] * fp[1], c[2] += xp[2] * fp[2], c[3] += xp[3] * fp[3];
    }
    finish(c, 4, bias, r->lo, r->hi, out + p * out_step + c0);
  }
}
