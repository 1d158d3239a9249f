/* Decoding a verified flatbuffer into the model's tables, checking what the bytes mean: every index (buffer,
 * opcode, tensor, subgraph), dtype, shape, buffer size against shape x dtype, external data ranges,
 * quantization vectors and sparsity structure. */
#include "model.h"

#include <string.h>

#include "errors.h"
#include "schema.h"
#include "sparsity.h"
#include "verifier.h"

typedef struct decoder {
  ep_model *m;
  const fb_buf *b;
  uint32_t model;           /* root table */
  const uint8_t *buffers;   /* vector of Buffer tables */
  uint32_t num_buffers;
  const uint8_t *opcodes;
  uint32_t num_opcodes;
} decoder;

static const int32_t *i32_vector(const fb_buf *b, uint32_t t, int slot, int32_t *count) {
  uint32_t n;
  const uint8_t *p = fb_vector(b, t, slot, &n);
  *count = (int32_t)n;
  return (const int32_t *)(const void *)p;
}

/* Byte size of `rank` dims of `dtype`, or SIZE_MAX on overflow / over EP_MAX_TENSOR_BYTES. */
static size_t shape_bytes(int32_t dtype, int32_t rank, const int32_t *dims) {
  size_t bytes = ep_dtype_size(dtype);
  for (int32_t i = 0; i < rank; i++) {
    if (dims[i] && bytes > EP_MAX_TENSOR_BYTES / (size_t)dims[i]) return SIZE_MAX;
    bytes *= (size_t)dims[i];
  }
  return bytes > EP_MAX_TENSOR_BYTES ? SIZE_MAX : bytes;
}

/* The bytes a Buffer table holds: its data vector, or [offset, offset + size) of the file. */
static ep_status buffer_bytes(decoder *d, uint32_t index, const uint8_t **data, size_t *size) {
  uint32_t buf = fb_vector_ref(d->b, d->buffers, index);
  uint32_t n;
  *data = fb_vector(d->b, buf, BUFFER_DATA, &n);
  *size = n;
  uint64_t offset = fb_read_u64(d->b, buf, BUFFER_OFFSET, 0), size64 = fb_read_u64(d->b, buf, BUFFER_SIZE, 0);
  /* offset 0 or 1 means "no external data" (1 is the converter's placeholder). */
  if (offset > 1) {
    if (n) return ep_fail(EP_ERROR_MODEL, "invalid model: buffer %u has both inline data and an offset", index);
    if (offset > d->m->file_size || size64 > d->m->file_size - offset)
      return ep_fail(EP_ERROR_MODEL, "invalid model: buffer %u (offset %llu, size %llu) lies outside the %zu-byte file",
                     index, (unsigned long long)offset, (unsigned long long)size64, d->m->file_size);
    *data = d->m->file + offset;
    *size = (size_t)size64;
  }
  if (!*size) *data = NULL;
  return EP_OK;
}

/* Points `*out` at `bytes` bytes aligned to `align`: in place when already aligned, else a pool copy. */
static ep_status aligned_view(decoder *d, const void *src, size_t bytes, size_t align, const void **out) {
  if (((uintptr_t)src % align) == 0) {
    *out = src;
    return EP_OK;
  }
  void *copy = ep_pool_alloc(&d->m->pool, bytes, 1);
  if (!copy) return ep_fail(EP_ERROR_MEMORY, "out of memory copying %zu bytes of constant data", bytes);
  memcpy(copy, src, bytes);
  *out = copy;
  return EP_OK;
}

static ep_status decode_shape(const fb_buf *b, uint32_t t, int32_t index, ep_tensor *x) {
  int32_t rank;
  const int32_t *shape = i32_vector(b, t, TENSOR_SHAPE, &rank);
  if (rank > EP_MAX_RANK)
    return ep_fail(EP_ERROR_UNSUPPORTED, "tensor %d ('%s') has rank %d; at most %d is supported", index, x->name,
                   rank, EP_MAX_RANK);
  for (int32_t i = 0; i < rank; i++) {
    if (shape[i] < 0)
      return ep_fail(EP_ERROR_MODEL, "invalid model: tensor %d ('%s') has negative dimension %d", index, x->name,
                     shape[i]);
    x->dims[i] = x->model_dims[i] = shape[i];
  }
  x->rank = x->model_rank = rank;
  int32_t sig_rank;
  const int32_t *sig = i32_vector(b, t, TENSOR_SHAPE_SIGNATURE, &sig_rank);
  if (!sig) {
    x->signature_rank = rank;
    memcpy(x->signature, x->dims, sizeof x->dims);
    return EP_OK;
  }
  if (sig_rank != rank)
    return ep_fail(EP_ERROR_MODEL, "invalid model: tensor %d ('%s') has shape_signature of rank %d for rank %d",
                   index, x->name, sig_rank, rank);
  for (int32_t i = 0; i < rank; i++) {
    if (sig[i] < -1 || (sig[i] >= 0 && sig[i] != shape[i]))
      return ep_fail(EP_ERROR_MODEL, "invalid model: tensor %d ('%s') has shape_signature %d for dimension %d",
                     index, x->name, sig[i], shape[i]);
    x->signature[i] = sig[i];
  }
  x->signature_rank = rank;
  return EP_OK;
}

static ep_status decode_quantization(decoder *d, uint32_t t, int32_t index, ep_tensor *x) {
  uint32_t q = fb_ref(d->b, t, TENSOR_QUANTIZATION);
  if (!q) return EP_OK;
  uint32_t ns, nz;
  const uint8_t *scale = fb_vector(d->b, q, QUANT_SCALE, &ns);
  const uint8_t *zero = fb_vector(d->b, q, QUANT_ZERO_POINT, &nz);
  int32_t axis = fb_read_i32(d->b, q, QUANT_QUANTIZED_DIMENSION, 0);
  if (fb_read_u8(d->b, q, QUANT_DETAILS_TYPE, 0) > QUANT_DETAILS_CUSTOM)
    return ep_fail(EP_ERROR_UNSUPPORTED, "tensor %d ('%s') uses blockwise or multi-axis quantization", index,
                   x->name);
  x->quant_axis = axis;
  /* As in TFLite: parameters count only when both vectors are present and non-empty. */
  if (!scale || !zero || !ns || !nz) return EP_OK;
  if (ns != nz)
    return ep_fail(EP_ERROR_MODEL, "invalid model: tensor %d ('%s') has %u scales and %u zero points", index,
                   x->name, ns, nz);
  if (ns > 1 && (axis < 0 || axis >= x->rank || (uint32_t)x->dims[axis] != ns))
    return ep_fail(EP_ERROR_MODEL, "invalid model: tensor %d ('%s') has %u per-axis scales for quantized_dimension %d",
                   index, x->name, ns, axis);
  const void *zp = NULL;
  ep_status st = aligned_view(d, zero, (size_t)nz * 8, 8, &zp);
  if (st != EP_OK) return st;
  x->scale = (const float *)(const void *)scale;
  x->zero_point = zp;
  x->quant_count = (int32_t)ns;
  return EP_OK;
}

static ep_status decode_tensor(decoder *d, uint32_t t, int32_t index, ep_tensor *x) {
  const fb_buf *b = d->b;
  const char *name = fb_string(b, t, TENSOR_NAME);
  x->name = name ? name : "";
  uint8_t type = fb_read_u8(b, t, TENSOR_TYPE, EP_FLOAT32);
  if (type > SCHEMA_MAX_TENSOR_TYPE)
    return ep_fail(EP_ERROR_MODEL, "invalid model: tensor %d ('%s') has unknown type %u", index, x->name, type);
  x->type = type;
  if (!ep_dtype_size(type))
    return ep_fail(EP_ERROR_UNSUPPORTED, "tensor %d ('%s') has type %s, which is not supported", index, x->name,
                   ep_dtype_name(type));
  if (fb_read_u32(b, t, TENSOR_EXTERNAL_BUFFER, 0))
    return ep_fail(EP_ERROR_UNSUPPORTED, "tensor %d ('%s') uses an external buffer file", index, x->name);
  x->is_variable = fb_read_u8(b, t, TENSOR_IS_VARIABLE, 0) != 0;
  ep_status st = decode_shape(b, t, index, x);
  if (st != EP_OK) return st;
  x->bytes = shape_bytes(x->type, x->rank, x->dims);
  if (x->bytes == SIZE_MAX)
    return ep_fail(EP_ERROR_MODEL, "invalid model: tensor %d ('%s') is too large", index, x->name);
  uint32_t buffer = fb_read_u32(b, t, TENSOR_BUFFER, 0);
  if (buffer >= d->num_buffers)
    return ep_fail(EP_ERROR_MODEL, "invalid model: tensor %d ('%s') refers to buffer %u of %u", index, x->name,
                   buffer, d->num_buffers);
  const uint8_t *data;
  size_t size;
  if ((st = buffer_bytes(d, buffer, &data, &size)) != EP_OK) return st;
  if ((st = decode_quantization(d, t, index, x)) != EP_OK) return st;
  uint32_t sp = fb_ref(b, t, TENSOR_SPARSITY);
  size_t expected = x->bytes;
  if (sp) {
    ep_sparsity *s = ep_pool_alloc(&d->m->pool, 1, sizeof *s);
    if (!s) return ep_fail(EP_ERROR_MEMORY, "out of memory");
    size_t values;
    if ((st = ep_sparsity_decode(b, sp, x, index, s, &values)) != EP_OK) return st;
    x->sparsity = s;
    expected = values * ep_dtype_size(x->type);
  }
  if (!data) {
    if (sp) return ep_fail(EP_ERROR_MODEL, "invalid model: sparse tensor %d ('%s') has no data", index, x->name);
    return EP_OK;
  }
  if (x->is_variable)
    return ep_fail(EP_ERROR_UNSUPPORTED, "variable tensor %d ('%s') with initial data", index, x->name);
  if (size != expected)
    return ep_fail(EP_ERROR_MODEL, "invalid model: tensor %d ('%s') has a %zu-byte buffer; its shape and %s need %zu",
                   index, x->name, size, ep_dtype_name(x->type), expected);
  const void *view = NULL;
  if ((st = aligned_view(d, data, size, ep_dtype_size(x->type), &view)) != EP_OK) return st;
  x->data = (void *)view;
  x->is_constant = 1;
  if (sp) x->bytes = size;
  return EP_OK;
}

static ep_status check_indices(const int32_t *idx, int32_t n, int32_t limit, int allow_omitted, const char *what,
                               int32_t sg, int32_t op) {
  for (int32_t i = 0; i < n; i++) {
    if (idx[i] < limit && (idx[i] >= 0 || (allow_omitted && idx[i] == -1))) continue;
    if (op >= 0)
      return ep_fail(EP_ERROR_MODEL, "invalid model: subgraph %d op %d %s %d is tensor %d of %d", sg, op, what, i,
                     idx[i], limit);
    return ep_fail(EP_ERROR_MODEL, "invalid model: subgraph %d %s %d is tensor %d of %d", sg, what, i, idx[i],
                   limit);
  }
  return EP_OK;
}

static ep_status decode_opcode(decoder *d, uint32_t index, ep_op_desc *op) {
  uint32_t oc = fb_vector_ref(d->b, d->opcodes, index);
  int32_t code = fb_read_i8(d->b, oc, OPCODE_DEPRECATED_BUILTIN_CODE, 0);
  int32_t wide = fb_read_i32(d->b, oc, OPCODE_BUILTIN_CODE, 0);
  /* The schema's rule: the real code is the larger of the two (old files only fill the deprecated byte). */
  if (wide > code) code = wide;
  if (code < 0 || code >= EP_OP_COUNT)
    return ep_fail(EP_ERROR_MODEL, "invalid model: operator code %u has unknown builtin code %d", index, code);
  op->builtin_code = code;
  op->version = fb_read_i32(d->b, oc, OPCODE_VERSION, 1);
  op->custom_code = fb_string(d->b, oc, OPCODE_CUSTOM_CODE);
  if (code == EP_OP_CUSTOM && !op->custom_code)
    return ep_fail(EP_ERROR_MODEL, "invalid model: custom operator code %u has no name", index);
  return EP_OK;
}

static ep_status decode_op(decoder *d, uint32_t t, int32_t sg, int32_t index, int32_t num_tensors,
                           ep_op_desc *op) {
  const fb_buf *b = d->b;
  uint32_t opcode = fb_read_u32(b, t, OP_OPCODE_INDEX, 0);
  if (opcode >= d->num_opcodes)
    return ep_fail(EP_ERROR_MODEL, "invalid model: subgraph %d op %d uses operator code %u of %u", sg, index,
                   opcode, d->num_opcodes);
  ep_status st = decode_opcode(d, opcode, op);
  if (st != EP_OK) return st;
  op->inputs = i32_vector(b, t, OP_INPUTS, &op->num_inputs);
  op->outputs = i32_vector(b, t, OP_OUTPUTS, &op->num_outputs);
  int32_t num_intermediates;
  const int32_t *intermediates = i32_vector(b, t, OP_INTERMEDIATES, &num_intermediates);
  if ((st = check_indices(op->inputs, op->num_inputs, num_tensors, 1, "input", sg, index)) != EP_OK ||
      (st = check_indices(op->outputs, op->num_outputs, num_tensors, 1, "output", sg, index)) != EP_OK ||
      (st = check_indices(intermediates, num_intermediates, num_tensors, 0, "intermediate", sg, index)) != EP_OK)
    return st;
  op->options_type = fb_read_u8(b, t, OP_BUILTIN_OPTIONS_TYPE, 0);
  op->options_table = op->options_type ? fb_ref(b, t, OP_BUILTIN_OPTIONS) : 0;
  uint32_t n;
  op->custom_options = fb_vector(b, t, OP_CUSTOM_OPTIONS, &n);
  op->custom_options_size = n;
  uint64_t off = fb_read_u64(b, t, OP_LARGE_CUSTOM_OPTIONS_OFFSET, 0);
  uint64_t size = fb_read_u64(b, t, OP_LARGE_CUSTOM_OPTIONS_SIZE, 0);
  if (off > 1) {
    if (off > d->m->file_size || size > d->m->file_size - off || size > UINT32_MAX)
      return ep_fail(EP_ERROR_MODEL, "invalid model: subgraph %d op %d custom options lie outside the file", sg,
                     index);
    op->custom_options = d->m->file + off;
    op->custom_options_size = (uint32_t)size;
  }
  return EP_OK;
}

static ep_status decode_subgraph(decoder *d, uint32_t t, int32_t index, ep_subgraph_desc *g) {
  const fb_buf *b = d->b;
  ep_pool *pool = &d->m->pool;
  g->name = fb_string(b, t, SUBGRAPH_NAME);
  uint32_t nt, no;
  const uint8_t *tensors = fb_vector(b, t, SUBGRAPH_TENSORS, &nt);
  const uint8_t *ops = fb_vector(b, t, SUBGRAPH_OPERATORS, &no);
  if (nt > INT32_MAX / 2 || no > INT32_MAX / 2)
    return ep_fail(EP_ERROR_MODEL, "invalid model: subgraph %d is too large", index);
  g->num_tensors = (int32_t)nt;
  g->num_ops = (int32_t)no;
  g->tensors = ep_pool_alloc(pool, nt ? nt : 1, sizeof *g->tensors);
  g->ops = ep_pool_alloc(pool, no ? no : 1, sizeof *g->ops);
  if (!g->tensors || !g->ops) return ep_fail(EP_ERROR_MEMORY, "out of memory decoding subgraph %d", index);
  ep_status st;
  for (uint32_t i = 0; i < nt; i++)
    if ((st = decode_tensor(d, fb_vector_ref(b, tensors, i), (int32_t)i, &g->tensors[i])) != EP_OK) return st;
  for (uint32_t i = 0; i < no; i++)
    if ((st = decode_op(d, fb_vector_ref(b, ops, i), index, (int32_t)i, g->num_tensors, &g->ops[i])) != EP_OK)
      return st;
  g->inputs = i32_vector(b, t, SUBGRAPH_INPUTS, &g->num_inputs);
  g->outputs = i32_vector(b, t, SUBGRAPH_OUTPUTS, &g->num_outputs);
  if ((st = check_indices(g->inputs, g->num_inputs, g->num_tensors, 0, "input", index, -1)) != EP_OK) return st;
  return check_indices(g->outputs, g->num_outputs, g->num_tensors, 0, "output", index, -1);
}

static ep_status decode_tensor_maps(decoder *d, uint32_t sig, int slot, int32_t index, int32_t limit,
                                    ep_tensor_map **out, int32_t *count) {
  uint32_t n;
  const uint8_t *maps = fb_vector(d->b, sig, slot, &n);
  *count = (int32_t)n;
  *out = ep_pool_alloc(&d->m->pool, n ? n : 1, sizeof **out);
  if (!*out) return ep_fail(EP_ERROR_MEMORY, "out of memory");
  for (uint32_t i = 0; i < n; i++) {
    uint32_t map = fb_vector_ref(d->b, maps, i);
    const char *name = fb_string(d->b, map, TENSOR_MAP_NAME);
    uint32_t tensor = fb_read_u32(d->b, map, TENSOR_MAP_TENSOR_INDEX, 0);
    if (tensor >= (uint32_t)limit)
      return ep_fail(EP_ERROR_MODEL, "invalid model: signature %d maps '%s' to tensor %u of %d", index,
                     name ? name : "", tensor, limit);
    (*out)[i].name = name ? name : "";
    (*out)[i].tensor = (int32_t)tensor;
  }
  return EP_OK;
}

static ep_status decode_signatures(decoder *d) {
  uint32_t n;
  const uint8_t *sigs = fb_vector(d->b, d->model, MODEL_SIGNATURE_DEFS, &n);
  d->m->num_signatures = (int32_t)n;
  d->m->signatures = ep_pool_alloc(&d->m->pool, n ? n : 1, sizeof *d->m->signatures);
  if (!d->m->signatures) return ep_fail(EP_ERROR_MEMORY, "out of memory");
  for (uint32_t i = 0; i < n; i++) {
    uint32_t sig = fb_vector_ref(d->b, sigs, i);
    ep_signature_desc *s = &d->m->signatures[i];
    const char *key = fb_string(d->b, sig, SIGNATURE_KEY);
    uint32_t sg = fb_read_u32(d->b, sig, SIGNATURE_SUBGRAPH_INDEX, 0);
    if (sg >= (uint32_t)d->m->num_subgraphs)
      return ep_fail(EP_ERROR_MODEL, "invalid model: signature %u refers to subgraph %u of %d", i, sg,
                     d->m->num_subgraphs);
    s->key = key ? key : "";
    s->subgraph = (int32_t)sg;
    int32_t limit = d->m->subgraphs[sg].num_tensors;
    ep_status st = decode_tensor_maps(d, sig, SIGNATURE_INPUTS, (int32_t)i, limit, &s->inputs, &s->num_inputs);
    if (st == EP_OK)
      st = decode_tensor_maps(d, sig, SIGNATURE_OUTPUTS, (int32_t)i, limit, &s->outputs, &s->num_outputs);
    if (st != EP_OK) return st;
  }
  return EP_OK;
}

static ep_status check_metadata(decoder *d) {
  uint32_t n;
  const uint8_t *meta = fb_vector(d->b, d->model, MODEL_METADATA, &n);
  for (uint32_t i = 0; i < n; i++) {
    uint32_t buffer = fb_read_u32(d->b, fb_vector_ref(d->b, meta, i), METADATA_BUFFER, 0);
    if (buffer >= d->num_buffers)
      return ep_fail(EP_ERROR_MODEL, "invalid model: metadata %u refers to buffer %u of %u", i, buffer,
                     d->num_buffers);
  }
  return EP_OK;
}

ep_status ep_model_decode(ep_model *m) {
  ep_status st = ep_verify_flatbuffer(m->file, m->file_size);
  if (st != EP_OK) return st;
  m->fb.data = m->file;
  m->fb.size = m->file_size < FB_MAX_SIZE ? m->file_size : FB_MAX_SIZE;
  decoder d = {m, &m->fb, fb_u32(m->file), NULL, 0, NULL, 0};
  uint32_t version = fb_read_u32(&m->fb, d.model, MODEL_VERSION, 0);
  if (version != SCHEMA_VERSION)
    return ep_fail(EP_ERROR_MODEL, "invalid model: schema version %u, expected %d", version, SCHEMA_VERSION);
  d.buffers = fb_vector(&m->fb, d.model, MODEL_BUFFERS, &d.num_buffers);
  d.opcodes = fb_vector(&m->fb, d.model, MODEL_OPERATOR_CODES, &d.num_opcodes);
  uint32_t ns;
  const uint8_t *subgraphs = fb_vector(&m->fb, d.model, MODEL_SUBGRAPHS, &ns);
  if (!ns) return ep_fail(EP_ERROR_MODEL, "invalid model: no subgraphs");
  if (ns > INT32_MAX / 2) return ep_fail(EP_ERROR_MODEL, "invalid model: too many subgraphs");
  m->num_subgraphs = (int32_t)ns;
  m->subgraphs = ep_pool_alloc(&m->pool, ns, sizeof *m->subgraphs);
  if (!m->subgraphs) return ep_fail(EP_ERROR_MEMORY, "out of memory");
  for (uint32_t i = 0; i < ns; i++)
    if ((st = decode_subgraph(&d, fb_vector_ref(&m->fb, subgraphs, i), (int32_t)i, &m->subgraphs[i])) != EP_OK)
      return st;
  if ((st = check_metadata(&d)) != EP_OK) return st;
  return decode_signatures(&d);
}
