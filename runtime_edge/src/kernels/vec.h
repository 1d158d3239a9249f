/* Loops the compiler vectorizes at -O2, for the reference kernels' inner loops.
 *
 * GCC's default -O2 cost model vectorizes a loop only when it needs neither a scalar epilogue nor a run-time
 * alias check. EP_FOR_VEC therefore cuts a run of n elements into blocks of EP_VEC_BLOCK (a constant trip
 * count) plus a scalar tail, and it must be used inside a function whose pointer parameters are
 * restrict-qualified (GCC honours restrict reliably on parameters, not on local pointers). The helpers
 * below are such functions for the recurring row operations. */
#ifndef EP_KERNELS_VEC_H
#define EP_KERNELS_VEC_H

#include <stdint.h>

#define EP_VEC_BLOCK 16

#define EP_FOR_VEC(i, n, ...)                                        \
  do {                                                               \
    int64_t ep_n_ = (n), ep_b_ = 0;                                  \
    for (; ep_b_ + EP_VEC_BLOCK <= ep_n_; ep_b_ += EP_VEC_BLOCK)     \
      for (int ep_k_ = 0; ep_k_ < EP_VEC_BLOCK; ep_k_++) {           \
        int64_t i = ep_b_ + ep_k_;                                   \
        __VA_ARGS__;                                                 \
      }                                                              \
    for (int64_t i = ep_b_; i < ep_n_; i++) {                        \
      __VA_ARGS__;                                                   \
    }                                                                \
  } while (0)

/* acc[i] = v */
static inline void ep_vec_fill(float *restrict acc, float v, int64_t n) { EP_FOR_VEC(i, n, acc[i] = v); }

/* acc[i] = x[i] */
static inline void ep_vec_copy(float *restrict acc, const float *restrict x, int64_t n) { EP_FOR_VEC(i, n, acc[i] = x[i]); }

/* acc[i] += x[i] * y[i] */
static inline void ep_vec_mul_add(float *restrict acc, const float *restrict x, const float *restrict y, int64_t n) {
  EP_FOR_VEC(i, n, acc[i] += x[i] * y[i]);
}

/* acc[i] += s * x[i] */
static inline void ep_vec_scale_add(float *restrict acc, float s, const float *restrict x, int64_t n) {
  EP_FOR_VEC(i, n, acc[i] += s * x[i]);
}

/* acc[i] += x[i] */
static inline void ep_vec_add(float *restrict acc, const float *restrict x, int64_t n) { EP_FOR_VEC(i, n, acc[i] += x[i]); }

/* acc[i] = max(acc[i], x[i]) */
static inline void ep_vec_max(float *restrict acc, const float *restrict x, int64_t n) {
  EP_FOR_VEC(i, n, acc[i] = x[i] > acc[i] ? x[i] : acc[i]);
}

/* x[i] = clamp(x[i], lo, hi) */
static inline void ep_vec_clamp(float *restrict x, float lo, float hi, int64_t n) {
  EP_FOR_VEC(i, n, x[i] = x[i] < lo ? lo : (x[i] > hi ? hi : x[i]));
}

/* acc[i] += (x[i] + offset) * y[i], int8 inputs with int32 accumulators */
static inline void ep_vec_mul_add_s8(int32_t *restrict acc, const int8_t *restrict x, int32_t offset,
                                     const int8_t *restrict y, int64_t n) {
  EP_FOR_VEC(i, n, acc[i] += ((int32_t)x[i] + offset) * (int32_t)y[i]);
}

#endif
