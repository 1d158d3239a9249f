/* Float GEMM micro-kernels: one K block of a 4 x 8 or 1 x 8 tile of C against a packed panel (gemm.h's
 * layout, NR = 8), with the epilogue fused so a tile touches C once.
 *
 * They live in their own translation unit on purpose: GCC's basic-block vectorizer turns their written-out
 * rows into SSE multiply-adds with the accumulators in registers, but once inlined into the blocking loops it
 * splits them into scalar code. SIMD variants replace these two functions behind the same packing. */
#ifndef EP_KERNELS_GEMM_TILE_H
#define EP_KERNELS_GEMM_TILE_H

#include <stdint.h>

/* How a tile's sums reach C. */
typedef struct ep_gemm_tile_out {
  const float *bias; /* the panel's 8 bias values, or NULL */
  float lo, hi;      /* clamp of the fused activation */
  int accumulate;    /* add C's current values (a K block after the first) */
  int last;          /* the last K block: add the bias and clamp */
} ep_gemm_tile_out;

/* C rows 0..3 (row stride ldc), 8 columns, from A rows a, a + lda, ... (kc values each) times panel b (kc x 8). */
void ep_gemm_tile4_f32(int32_t kc, const float *a, int64_t lda, const float *b, float *c, int64_t ldc,
                       const ep_gemm_tile_out *o);

/* One row of C: rows left below a multiple of 4, and matrix-vector products. */
void ep_gemm_tile1_f32(int32_t kc, const float *a, const float *b, float *c, const ep_gemm_tile_out *o);

#endif
