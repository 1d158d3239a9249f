#include "sparsity.h"

#include "errors.h"
#include "model.h"
#include "schema.h"

enum { FORMAT_DENSE = 0, FORMAT_SPARSE_CSR = 1 };

static ep_status bad(const ep_tensor *x, int32_t index, const char *what) {
  return ep_fail(EP_ERROR_MODEL, "invalid model: tensor %d ('%s') sparsity: %s", index, x->name, what);
}

static uint32_t index_at(int32_t dtype, const void *v, uint32_t i) {
  switch (dtype) {
    case EP_INT32: return (uint32_t)((const int32_t *)v)[i];
    case EP_UINT16: return ((const uint16_t *)v)[i];
    default: return ((const uint8_t *)v)[i];
  }
}

static int32_t index_dtype(uint8_t tag) {
  return tag == SPARSE_INDEX_INT32 ? EP_INT32 : tag == SPARSE_INDEX_UINT16 ? EP_UINT16 : EP_UINT8;
}

static const void *index_vector(const fb_buf *b, uint32_t dim, int type_slot, int slot, int32_t *dtype,
                                int32_t *count) {
  uint8_t tag = fb_read_u8(b, dim, type_slot, 0);
  uint32_t vec = tag ? fb_ref(b, dim, slot) : 0;
  if (!vec) return NULL;
  uint32_t n;
  const uint8_t *values = fb_vector(b, vec, INDEX_VECTOR_VALUES, &n);
  *dtype = index_dtype(tag);
  *count = (int32_t)n;
  return values;
}

static ep_status decode_dim(const fb_buf *b, uint32_t dim, ep_sparsity_dim *d) {
  d->format = fb_read_u8(b, dim, DIM_FORMAT, FORMAT_DENSE);
  d->dense_size = fb_read_i32(b, dim, DIM_DENSE_SIZE, 0);
  if (d->format != FORMAT_SPARSE_CSR) return EP_OK;
  d->segments = index_vector(b, dim, DIM_SEGMENTS_TYPE, DIM_SEGMENTS, &d->segments_dtype, &d->segments_count);
  d->indices = index_vector(b, dim, DIM_INDICES_TYPE, DIM_INDICES, &d->indices_dtype, &d->indices_count);
  return d->segments && d->indices ? EP_OK : EP_ERROR_MODEL;
}

/* Checks one CSR level holding `parents` segments over a dimension of `size`; returns its index count. */
static int check_csr(const ep_sparsity_dim *d, uint64_t parents, uint32_t size) {
  if ((uint64_t)d->segments_count != parents + 1) return 0;
  uint32_t prev = 0;
  for (int32_t i = 0; i < d->segments_count; i++) {
    uint32_t s = index_at(d->segments_dtype, d->segments, (uint32_t)i);
    if ((i == 0 && s != 0) || s < prev) return 0;
    prev = s;
  }
  if (prev != (uint32_t)d->indices_count) return 0;
  for (int32_t i = 0; i < d->indices_count; i++)
    if (index_at(d->indices_dtype, d->indices, (uint32_t)i) >= size) return 0;
  return 1;
}

ep_status ep_sparsity_decode(const fb_buf *b, uint32_t sp, const ep_tensor *x, int32_t index, ep_sparsity *out,
                             size_t *values) {
  uint32_t n, nb, nd;
  const int32_t *order = (const int32_t *)(const void *)fb_vector(b, sp, SPARSITY_TRAVERSAL_ORDER, &n);
  const int32_t *block_map = (const int32_t *)(const void *)fb_vector(b, sp, SPARSITY_BLOCK_MAP, &nb);
  const uint8_t *dims = fb_vector(b, sp, SPARSITY_DIM_METADATA, &nd);
  int32_t rank = x->rank;
  if (n > EP_MAX_SPARSE_DIMS || n != (uint32_t)rank + nb || nd != n)
    return bad(x, index, "traversal order, block map and dimension metadata lengths disagree with the rank");
  out->order_count = (int32_t)n;
  out->traversal_order = order;
  out->block_map_count = (int32_t)nb;
  out->block_map = block_map;
  uint32_t seen = 0;
  for (uint32_t i = 0; i < n; i++) {
    int32_t o = order[i];
    int in_place = i < (uint32_t)rank ? (o >= 0 && o < rank) : (o >= rank && o < (int32_t)n);
    if (!in_place || (seen & (1u << o))) return bad(x, index, "traversal order is not a permutation");
    seen |= 1u << o;
    if (decode_dim(b, fb_vector_ref(b, dims, i), &out->dims[i]) != EP_OK)
      return bad(x, index, "sparse dimension without matching segments and indices");
  }
  int32_t block[EP_MAX_RANK];
  for (int32_t d = 0; d < rank; d++) block[d] = 1;
  for (uint32_t j = 0; j < nb; j++) {
    int32_t d = block_map[j];
    if (d < 0 || d >= rank || block[d] != 1) return bad(x, index, "block map entry out of range");
    for (uint32_t i = (uint32_t)rank; i < n; i++) {
      const ep_sparsity_dim *m = &out->dims[i];
      if (order[i] != rank + (int32_t)j) continue;
      if (m->format != FORMAT_DENSE || m->dense_size <= 0 || x->dims[d] % m->dense_size)
        return bad(x, index, "block dimension is not a dense divisor of its dimension");
      block[d] = m->dense_size;
    }
  }
  uint64_t count = 1;
  for (uint32_t i = 0; i < n; i++) {
    const ep_sparsity_dim *m = &out->dims[i];
    int32_t o = order[i];
    uint32_t size = (uint32_t)(o < rank ? x->dims[o] / block[o] : out->dims[i].dense_size);
    if (m->format == FORMAT_DENSE) {
      if ((uint32_t)m->dense_size != size) return bad(x, index, "dense size does not match its dimension");
      count *= size;
      if (count > EP_MAX_TENSOR_BYTES) return bad(x, index, "too many values");
    } else if (m->format == FORMAT_SPARSE_CSR) {
      if (!check_csr(m, count, size)) return bad(x, index, "CSR segments or indices out of range");
      count = (uint64_t)m->indices_count;
    } else {
      return bad(x, index, "unknown dimension format");
    }
  }
  *values = (size_t)count;
  return EP_OK;
}
