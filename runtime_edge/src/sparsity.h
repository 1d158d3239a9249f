/* Decoding and verifying TFLite sparsity parameters (traversal order, block map, per-level DENSE/CSR). */
#ifndef EP_SPARSITY_H
#define EP_SPARSITY_H

#include "flatbuffer.h"
#include "kernel.h"

/* Fills `out` from SparsityParameters table `sp` of tensor `x` (whose dense shape is already decoded) and
 * stores in *values how many values the structure addresses, which the buffer must hold. Checks that the
 * traversal order is a permutation (original dims first, block dims last), block dims divide their
 * dimension, dense sizes match the dims they stand for, CSR segments start at 0, never decrease and end at
 * the index count, and every index is below its level's size. */
ep_status ep_sparsity_decode(const fb_buf *b, uint32_t sp, const ep_tensor *x, int32_t index, ep_sparsity *out,
                             size_t *values);

#endif
