/* DENSIFY: expand a sparse constant (TFLite SparsityParameters: traversal order, block map, per-dimension
 * DENSE or SPARSE_CSR metadata) into its dense tensor. The input is a constant, so the dense result is built
 * once at prepare; eval copies it out. Values are visited in storage order by walking the traversal
 * dimensions depth first: a DENSE level enumerates dense_size positions, a SPARSE_CSR level enumerates the
 * indices of the current segment. The loader verified the structure, so the walk stays in bounds. */
#include <string.h>

#include "../kernel.h"
#include "util.h"

typedef struct densify_walk {
  const ep_sparsity *sp;
  int32_t rank;               /* of the dense tensor */
  int64_t strides[EP_MAX_RANK];
  int32_t block_size[EP_MAX_SPARSE_DIMS];
  int32_t index[EP_MAX_SPARSE_DIMS];
  const uint8_t *values;
  size_t next;                /* next stored value */
  size_t es;
  uint8_t *dense;
} densify_walk;

static int64_t meta_at(const void *data, int32_t dtype, int64_t i) {
  switch (dtype) {
    case EP_UINT8: return ((const uint8_t *)data)[i];
    case EP_UINT16: return ((const uint16_t *)data)[i];
    default: return ((const int32_t *)data)[i];
  }
}

/* Stores the next value at the dense position named by the traversal indices. */
static void emit(densify_walk *w) {
  const ep_sparsity *sp = w->sp;
  int64_t orig[EP_MAX_RANK] = {0};
  int32_t i = 0;
  for (; i < w->rank; i++) orig[sp->traversal_order[i]] = w->index[i];
  for (; i < sp->order_count; i++) {
    int32_t b = sp->traversal_order[i] - w->rank, d = sp->block_map[b];
    orig[d] = orig[d] * w->block_size[b] + w->index[i];
  }
  int64_t flat = 0;
  for (int32_t k = 0; k < w->rank; k++) flat += orig[k] * w->strides[k];
  memcpy(w->dense + (size_t)flat * w->es, w->values + w->next * w->es, w->es);
  w->next++;
}

static void walk(densify_walk *w, int32_t level, int64_t prev) {
  const ep_sparsity *sp = w->sp;
  if (level == sp->order_count) {
    emit(w);
    return;
  }
  const ep_sparsity_dim *d = &sp->dims[level];
  if (d->format == 0) {
    for (int32_t i = 0; i < d->dense_size; i++) {
      w->index[level] = i;
      walk(w, level + 1, prev * d->dense_size + i);
    }
    return;
  }
  if (prev + 1 >= d->segments_count) return;
  int64_t s0 = meta_at(d->segments, d->segments_dtype, prev), s1 = meta_at(d->segments, d->segments_dtype, prev + 1);
  for (int64_t i = s0; i < s1 && i < d->indices_count; i++) {
    w->index[level] = (int32_t)meta_at(d->indices, d->indices_dtype, i);
    walk(w, level + 1, i);
  }
}

static ep_status prepare(ep_context *ctx, ep_node *node) {
  ep_status st = ep_check_arity(ctx, node, 1, 1, 1);
  if (st != EP_OK) return st;
  ep_tensor *in = ep_input(ctx, node, 0), *out = ep_output(ctx, node, 0);
  if (!in->is_constant || !in->sparsity)
    return ep_kernel_fail(ctx, node, EP_ERROR_MODEL, "input '%s' must be a sparse constant", in->name);
  if ((st = ep_check_type(ctx, node, out, in->type, "output")) != EP_OK) return st;
  const ep_sparsity *sp = in->sparsity;
  if (sp->order_count != in->rank + sp->block_map_count)
    return ep_kernel_fail(ctx, node, EP_ERROR_MODEL, "traversal order of '%s' has %d entries for rank %d + %d blocks",
                          in->name, sp->order_count, in->rank, sp->block_map_count);
  if ((st = ep_set_shape(ctx, out, in->rank, in->dims)) != EP_OK) return st;
  densify_walk w = {.sp = sp, .rank = in->rank, .values = in->data};
  if ((st = ep_element_size(ctx, node, in, &w.es)) != EP_OK) return st;
  ep_strides(in->rank, in->dims, w.strides);
  for (int32_t b = 0; b < sp->block_map_count; b++) w.block_size[b] = sp->dims[in->rank + b].dense_size;
  size_t bytes = ep_num_elements(out) * w.es;
  w.dense = ep_alloc_persistent(ctx, bytes ? bytes : 1); /* zeroed: absent values are 0 */
  if (!w.dense) return EP_ERROR_MEMORY;
  walk(&w, 0, 0);
  node->user_data = w.dense;
  return EP_OK;
}

static ep_status eval(ep_context *ctx, ep_node *node) {
  ep_tensor *out = ep_output(ctx, node, 0);
  if (out->bytes) memcpy(out->data, node->user_data, out->bytes);
  return EP_OK;
}

const ep_kernel ep_kernels_densify[] = {
    {EP_OP_DENSIFY, EP_ANY_DTYPE, EP_ISA_REF, EP_OPTIONS_NONE, "densify_any_ref", prepare, eval},
    EP_KERNEL_END,
};
