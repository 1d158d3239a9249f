/* Loops the compiler vectorizes at -O2. GCC's default -O2 cost model vectorizes a loop only when no scalar
 * epilogue is needed, so a run of n elements is cut into blocks of EP_VEC_BLOCK (a constant trip count it
 * accepts) followed by a scalar tail. Pointers the body reads and writes should be restrict-qualified so
 * that no run-time alias check is needed either. Usage: EP_FOR_VEC(i, n, out[i] = a[i] + b[i]); */
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

#endif
