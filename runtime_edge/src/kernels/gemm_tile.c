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

static void add_row(float *restrict c, const float *restrict row) {
  for (int j = 0; j < NR; j++) c[j] += row[j];
}

/* c[4][NR] += rows a0..a3 (kc values each) * panel b (kc x NR): 8 accumulator registers, 2 for b and 4 for the
 * broadcast a values fit SSE's 16. */
void ep_gemm_tile4_f32(int32_t kc, const float *restrict a0, const float *restrict a1, const float *restrict a2,
                      const float *restrict a3, const float *restrict b, float *restrict c) {
  float c0[NR] = {0}, c1[NR] = {0}, c2[NR] = {0}, c3[NR] = {0};
  for (int32_t k = 0; k < kc; k++, b += NR) {
    ROW8(c0, a0[k], b);
    ROW8(c1, a1[k], b);
    ROW8(c2, a2[k], b);
    ROW8(c3, a3[k], b);
  }
  add_row(c, c0);
  add_row(c + NR, c1);
  add_row(c + 2 * NR, c2);
  add_row(c + 3 * NR, c3);
}

/* c[NR] += row a * panel b: the rows left over below a multiple of MR (and matrix-vector products). */
void ep_gemm_tile1_f32(int32_t kc, const float *restrict a, const float *restrict b, float *restrict c) {
  float c0[NR] = {0};
  for (int32_t k = 0; k < kc; k++, b += NR) ROW8(c0, a[k], b);
  add_row(c, c0);
}
