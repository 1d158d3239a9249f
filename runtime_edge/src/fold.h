/* Folding at prepare: a node whose inputs are all constants (DEQUANTIZE of float16 weights, DENSIFY of
 * sparse weights, shape arithmetic) runs once during allocate; its outputs become constants held in
 * persistent memory, the node is skipped at invoke, and the kernels downstream see constant weights they
 * can pre-pack. Stateful or random ops are never folded. */
#ifndef EP_FOLD_H
#define EP_FOLD_H

#include "interpreter.h"

int ep_foldable(const ep_context *ctx, const ep_node *node);

/* Prepare only, after the node's own prepare: evaluates it into persistent memory and marks it folded. */
ep_status ep_fold(ep_context *ctx, ep_node *node);

#endif
