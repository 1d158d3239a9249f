/* Reference float GEMM micro-kernels (see gemm_tile.h). */
#include "gemm_tile.h"

#include "gemm.h"

enum { NR = EP_GEMM_NR };

_Static_assert(EP_GEMM_NR == 8 && EP_GEMM_MR == 4, "the float micro-kernels are written for 4 x 8 tiles");

/* c[0..8) += x * b[0..8), written out rather than looped: GCC's basic-block vectorizer turns the eight
 * statements into two SSE multiply-adds and keeps c in registers across the k loop, which it does not do for a
 * loop over j (the loop vectorizer leaves c in memory). */
#define ROW8(c, x, b)                                                                     \
  do {                                                                                  \
    float x_ = (x);                                                                     \
    c[0] += x_ * (b)[0], c[1] += x_ * (b)[1], c[2] += x_ * (b)[2], c[3] += x_ * (b)[3]; \
    c[4] += x_ * (b)[4], c[5] += x_ * (b)[5], c[6] += x_ * (b)[6], c[7] += x_ * (b)[7]; \
  } while (0)

/* dst = sums (+ dst when accumulating), then + bias and clamp on the last K block; constant trip counts. */
static void store_row(const float *restrict sums, float *restrict dst, const ep_gemm_tile_out *o) {
  float v[NR];
  if (o->accumulate)
    for (int j = 0; j < NR; j++) v[j] = sums[j] + dst[j];
  else
    for (int j = 0; j < NR; j++) v[j] = sums[j];
  if (!o->last) {
    for (int j = 0; j < NR; j++) dst[j] = v[j];
    return;
  }
  if (o->bias)
    for (int j = 0; j < NR; j++) v[j] += o->bias[j];
  float lo = o->lo, hi = o->hi;
  for (int j = 0; j < NR; j++) dst[j] = v[j] < lo ? lo : (v[j] > hi ? hi : v[j]);
}

/* 8 accumulator registers, 2 for the panel row and 4 for the broadcast A values fit SSE's 16. */
void ep_gemm_tile4_f32(int32_t kc, const float *a, int64_t lda, const float *b, float *c, int64_t ldc,
                       const ep_gemm_tile_out *o) {
  const float *restrict a0 = a, *restrict a1 = a + lda, *restrict a2 = a + 2 * lda, *restrict a3 = a + 3 * lda;
  float c0[NR] = {0}, c1[NR] = {0}, c2[NR] = {0}, c3[NR] = {0};
  for (int32_t k = 0; k < kc; k++, b += NR) {
    ROW8(c0, a0[k], b);
    ROW8(c1, a1[k], b);
    ROW8(c2, a2[k], b);
    ROW8(c3, a3[k], b);
  }
  store_row(c0, c, o);
  store_row(c1, c + ldc, o);
  store_row(c2, c + 2 * ldc, o);
  store_row(c3, c + 3 * ldc, o);
}

void ep_gemm_tile1_f32(int32_t kc, const float *a, const float *b, float *c, const ep_gemm_tile_out *o) {
  float c0[NR] = {0};
  for (int32_t k = 0; k < kc; k++, b += NR) ROW8(c0, a[k], b);
  store_row(c0, c, o);
}
