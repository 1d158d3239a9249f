/* Float GEMM micro-kernels: one K block of a tile of C against a packed panel (gemm.h's layout, NR = 8).
 *
 * They live in their own translation unit on purpose: GCC's basic-block vectorizer turns their written-out
 * rows into SSE multiply-adds with the accumulators in registers, but once inlined into the blocking loops it
 * splits them into scalar code. SIMD variants replace these two functions behind the same packing. */
#ifndef EP_KERNELS_GEMM_TILE_H
#define EP_KERNELS_GEMM_TILE_H

#include <stdint.h>

/* c[4][8] += rows a0..a3 (kc values each) * panel b (kc x 8, k-major). */
void ep_gemm_tile4_f32(int32_t kc, const float *restrict a0, const float *restrict a1, const float *restrict a2,
                       const float *restrict a3, const float *restrict b, float *restrict c);

/* c[8] += row a * panel b: rows left below a multiple of 4, and matrix-vector products. */
void ep_gemm_tile1_f32(int32_t kc, const float *restrict a, const float *restrict b, float *restrict c);

#endif
