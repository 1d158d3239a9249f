/* Cache-blocked GEMM for CONV_2D (after im2col) and FULLY_CONNECTED: C[M,N] = A[M,K] * B[N,K]^T.
 *
 * B (the weights, N output channels of K values) is constant, so it is packed once at prepare into panels
 * of EP_GEMM_NR channels, k-major and zero-padded, which the micro-kernel streams while keeping an
 * EP_GEMM_MR x EP_GEMM_NR tile of C in registers (float: gemm_tile.h). Float K is blocked by EP_GEMM_KC so a panel
 * slice stays in L1.
 * Callers split M across threads and call ep_gemm_* on their row range; the epilogue (bias, clamp, or
 * integer requantization) is fused into the last K block. Loops have constant trip counts over NR so the
 * compiler vectorizes them at -O2; SIMD variants can replace the micro-kernels behind the same packing.
 * int8 A (quantized activations) comes with two epilogues: requantization to int8, or rescaling to float for
 * the hybrid kernels. */
#ifndef EP_KERNELS_GEMM_H
#define EP_KERNELS_GEMM_H

#include <stddef.h>
#include <stdint.h>

#define EP_GEMM_MR 4
#define EP_GEMM_NR 8
#define EP_GEMM_KC 512

/* Elements of a packed B for N channels of K values. */
static inline size_t ep_gemm_packed_count(int32_t n, int32_t k) {
  return (size_t)((n + EP_GEMM_NR - 1) / EP_GEMM_NR) * EP_GEMM_NR * (size_t)k;
}

void ep_gemm_pack_f32(const float *b, int32_t n, int32_t k, float *packed);
/* int8 weights are widened to int16 when packed so the inner product vectorizes as 16x16->32 multiplies. */
void ep_gemm_pack_s8(const int8_t *b, int32_t n, int32_t k, int16_t *packed);

/* Float epilogue: C = clamp(A*B^T + bias, lo, hi); bias may be NULL. */
typedef struct ep_gemm_f32_out {
  const float *bias;
  float lo, hi;
} ep_gemm_f32_out;

/* Rows [m0, m1) of C (row stride ldc); A has row stride lda. */
void ep_gemm_f32(const float *a, int64_t lda, const float *packed, int32_t n, int32_t k, float *c, int64_t ldc,
                 int64_t m0, int64_t m1, const ep_gemm_f32_out *out);

/* Integer epilogue, TFLite's per-channel requantization:
 *   acc = sum_k a*b + input_offset * sum_k b[n] + bias[n];  out = clamp(requant(acc, n) + output_offset). */
typedef struct ep_gemm_s8_out {
  const int32_t *bias;        /* may be NULL */
  const int32_t *weight_sums; /* sum_k b[n, k] per channel */
  int32_t input_offset;       /* -input_zero_point */
  const int32_t *multiplier;  /* per channel */
  const int32_t *shift;       /* per channel */
  int32_t output_offset;
  int32_t lo, hi;
} ep_gemm_s8_out;

/* Rows [m0, m1) of int8 C. The int32 tile accumulates over all of K (int8 C cannot hold partial sums);
 * integer accumulation is exact, so the result does not depend on the blocking. */
void ep_gemm_s8(const int8_t *a, int64_t lda, const int16_t *packed, int32_t n, int32_t k, int8_t *c, int64_t ldc,
                int64_t m0, int64_t m1, const ep_gemm_s8_out *out);

/* Hybrid epilogue (int8 weights, float activations quantized on the fly, TFLite's hybrid kernels): row i of A
 * was quantized with scale row_scale[i * row_step] and zero point zero_point[i * row_step] (row_step 0: one
 * set for all rows); then
 *   acc = sum_k a*b - zero_point * sum_k b[n]
 *   out = clamp(acc * (row_scale * weight_scale[n]) + bias[n])       when fold (FULLY_CONNECTED, BATCH_MATMUL),
 *   out = clamp(acc * weight_scale[n] * row_scale + bias[n])         otherwise (per-channel CONV_2D),
 * the two float roundings TFLite's kernels apply in that order. */
typedef struct ep_gemm_hybrid_out {
  const float *bias;          /* may be NULL */
  const int32_t *weight_sums; /* sum_k b[n, k] per channel */
  const float *weight_scale;  /* per channel */
  const float *row_scale;
  const int32_t *zero_point;
  int64_t row_step;
  int fold;
  float lo, hi;
} ep_gemm_hybrid_out;

/* Rows [m0, m1) of float C from int8 A. */
void ep_gemm_s8_f32(const int8_t *a, int64_t lda, const int16_t *packed, int32_t n, int32_t k, float *c, int64_t ldc,
                    int64_t m0, int64_t m1, const ep_gemm_hybrid_out *out);

#endif
