/* Structural verification of a .tflite FlatBuffer against the schema, before anything reads it.
 * The schema is described as data (which field of which table is a scalar, string, vector, table or
 * union); one walker checks every offset, vtable, vector length, string terminator, alignment and union
 * tag against it. Shared subtrees are legal in FlatBuffers, so the walk is bounded by a depth and a table
 * budget rather than by the file size alone. Meaning (indices, shapes, sizes) is checked by model.c. */
#include "verifier.h"

#include "builtin_ops.h"
#include "errors.h"
#include "flatbuffer.h"
#include "schema.h"

enum kind { K_SCALAR, K_STRING, K_VEC_SCALAR, K_VEC_STRING, K_TABLE, K_VEC_TABLE, K_UNION };

enum table_id { T_ANY, T_MODEL, T_OPCODE, T_SUBGRAPH, T_TENSOR, T_QUANT, T_CUSTOM_QUANT, T_SPARSITY, T_DIM,
                T_INT32_VEC, T_UINT16_VEC, T_UINT8_VEC, T_BUFFER, T_OPERATOR, T_METADATA, T_SIGNATURE,
                T_TENSOR_MAP, T_VARIANT, T_EXT_GROUP, T_EXT_BUFFER, T_COUNT };

enum union_id { U_OPTIONS, U_OPTIONS2, U_QUANT_DETAILS, U_SPARSE_INDEX };

/* K_SCALAR/K_VEC_SCALAR: arg = element bytes; K_TABLE/K_VEC_TABLE: arg = table_id;
 * K_UNION: arg = union_id, tag = slot of the union's type field. */
typedef struct field_spec {
  uint8_t slot, kind, arg, tag;
} field_spec;

typedef struct table_spec {
  const field_spec *fields;
  int count;
} table_spec;

#define S(slot, bytes) {slot, K_SCALAR, bytes, 0}
#define STR(slot) {slot, K_STRING, 0, 0}
#define VS(slot, bytes) {slot, K_VEC_SCALAR, bytes, 0}
#define VSTR(slot) {slot, K_VEC_STRING, 0, 0}
#define TB(slot, table) {slot, K_TABLE, table, 0}
#define VT(slot, table) {slot, K_VEC_TABLE, table, 0}
#define UN(slot, un, tag_slot) {slot, K_UNION, un, tag_slot}

static const field_spec MODEL_F[] = {
    S(MODEL_VERSION, 4), VT(MODEL_OPERATOR_CODES, T_OPCODE), VT(MODEL_SUBGRAPHS, T_SUBGRAPH),
    STR(MODEL_DESCRIPTION), VT(MODEL_BUFFERS, T_BUFFER), VS(MODEL_METADATA_BUFFER, 4),
    VT(MODEL_METADATA, T_METADATA), VT(MODEL_SIGNATURE_DEFS, T_SIGNATURE),
    VT(MODEL_EXTERNAL_BUFFER_GROUPS, T_EXT_GROUP), VT(MODEL_EXTERNAL_BUFFERS, T_EXT_BUFFER)};
static const field_spec OPCODE_F[] = {S(OPCODE_DEPRECATED_BUILTIN_CODE, 1), STR(OPCODE_CUSTOM_CODE),
                                      S(OPCODE_VERSION, 4), S(OPCODE_BUILTIN_CODE, 4)};
static const field_spec SUBGRAPH_F[] = {VT(SUBGRAPH_TENSORS, T_TENSOR), VS(SUBGRAPH_INPUTS, 4),
                                        VS(SUBGRAPH_OUTPUTS, 4), VT(SUBGRAPH_OPERATORS, T_OPERATOR),
                                        STR(SUBGRAPH_NAME), S(SUBGRAPH_DEBUG_METADATA_INDEX, 4)};
static const field_spec TENSOR_F[] = {
    VS(TENSOR_SHAPE, 4), S(TENSOR_TYPE, 1), S(TENSOR_BUFFER, 4), STR(TENSOR_NAME), TB(TENSOR_QUANTIZATION, T_QUANT),
    S(TENSOR_IS_VARIABLE, 1), TB(TENSOR_SPARSITY, T_SPARSITY), VS(TENSOR_SHAPE_SIGNATURE, 4),
    S(TENSOR_HAS_RANK, 1), VT(TENSOR_VARIANT_TENSORS, T_VARIANT), S(TENSOR_EXTERNAL_BUFFER, 4)};
static const field_spec QUANT_F[] = {VS(QUANT_MIN, 4), VS(QUANT_MAX, 4), VS(QUANT_SCALE, 4),
                                     VS(QUANT_ZERO_POINT, 8), S(QUANT_DETAILS_TYPE, 1),
                                     UN(QUANT_DETAILS, U_QUANT_DETAILS, QUANT_DETAILS_TYPE),
                                     S(QUANT_QUANTIZED_DIMENSION, 4)};
static const field_spec CUSTOM_QUANT_F[] = {VS(CUSTOM_QUANT_CUSTOM, 1)};
static const field_spec SPARSITY_F[] = {VS(SPARSITY_TRAVERSAL_ORDER, 4), VS(SPARSITY_BLOCK_MAP, 4),
                                        VT(SPARSITY_DIM_METADATA, T_DIM)};
static const field_spec DIM_F[] = {S(DIM_FORMAT, 1), S(DIM_DENSE_SIZE, 4), S(DIM_SEGMENTS_TYPE, 1),
                                   UN(DIM_SEGMENTS, U_SPARSE_INDEX, DIM_SEGMENTS_TYPE), S(DIM_INDICES_TYPE, 1),
                                   UN(DIM_INDICES, U_SPARSE_INDEX, DIM_INDICES_TYPE)};
static const field_spec INT32_VEC_F[] = {VS(INDEX_VECTOR_VALUES, 4)};
static const field_spec UINT16_VEC_F[] = {VS(INDEX_VECTOR_VALUES, 2)};
static const field_spec UINT8_VEC_F[] = {VS(INDEX_VECTOR_VALUES, 1)};
static const field_spec BUFFER_F[] = {VS(BUFFER_DATA, 1), S(BUFFER_OFFSET, 8), S(BUFFER_SIZE, 8)};
static const field_spec OPERATOR_F[] = {
    S(OP_OPCODE_INDEX, 4), VS(OP_INPUTS, 4), VS(OP_OUTPUTS, 4), S(OP_BUILTIN_OPTIONS_TYPE, 1),
    UN(OP_BUILTIN_OPTIONS, U_OPTIONS, OP_BUILTIN_OPTIONS_TYPE), VS(OP_CUSTOM_OPTIONS, 1),
    S(OP_CUSTOM_OPTIONS_FORMAT, 1), VS(OP_MUTATING_VARIABLE_INPUTS, 1), VS(OP_INTERMEDIATES, 4),
    S(OP_LARGE_CUSTOM_OPTIONS_OFFSET, 8), S(OP_LARGE_CUSTOM_OPTIONS_SIZE, 8), S(OP_BUILTIN_OPTIONS_2_TYPE, 1),
    UN(OP_BUILTIN_OPTIONS_2, U_OPTIONS2, OP_BUILTIN_OPTIONS_2_TYPE), S(OP_DEBUG_METADATA_INDEX, 4)};
static const field_spec METADATA_F[] = {STR(METADATA_NAME), S(METADATA_BUFFER, 4)};
static const field_spec SIGNATURE_F[] = {VT(SIGNATURE_INPUTS, T_TENSOR_MAP), VT(SIGNATURE_OUTPUTS, T_TENSOR_MAP),
                                         STR(SIGNATURE_KEY), STR(SIGNATURE_DEPRECATED_TAG),
                                         S(SIGNATURE_SUBGRAPH_INDEX, 4)};
static const field_spec TENSOR_MAP_F[] = {STR(TENSOR_MAP_NAME), S(TENSOR_MAP_TENSOR_INDEX, 4)};
static const field_spec VARIANT_F[] = {VS(VARIANT_SHAPE, 4), S(VARIANT_TYPE, 1), S(VARIANT_HAS_RANK, 1)};
static const field_spec EXT_GROUP_F[] = {STR(EXT_GROUP_NAME)};
static const field_spec EXT_BUFFER_F[] = {S(EXT_BUFFER_ID, 4), S(EXT_BUFFER_GROUP, 4), S(EXT_BUFFER_OFFSET, 8),
                                          S(EXT_BUFFER_LENGTH, 8), STR(EXT_BUFFER_PACKING)};

#define SPEC(fields) {fields, (int)(sizeof fields / sizeof fields[0])}
static const table_spec TABLES[T_COUNT] = {
    [T_ANY] = {NULL, 0},
    [T_MODEL] = SPEC(MODEL_F), [T_OPCODE] = SPEC(OPCODE_F), [T_SUBGRAPH] = SPEC(SUBGRAPH_F),
    [T_TENSOR] = SPEC(TENSOR_F), [T_QUANT] = SPEC(QUANT_F), [T_CUSTOM_QUANT] = SPEC(CUSTOM_QUANT_F),
    [T_SPARSITY] = SPEC(SPARSITY_F), [T_DIM] = SPEC(DIM_F), [T_INT32_VEC] = SPEC(INT32_VEC_F),
    [T_UINT16_VEC] = SPEC(UINT16_VEC_F), [T_UINT8_VEC] = SPEC(UINT8_VEC_F), [T_BUFFER] = SPEC(BUFFER_F),
    [T_OPERATOR] = SPEC(OPERATOR_F), [T_METADATA] = SPEC(METADATA_F), [T_SIGNATURE] = SPEC(SIGNATURE_F),
    [T_TENSOR_MAP] = SPEC(TENSOR_MAP_F), [T_VARIANT] = SPEC(VARIANT_F), [T_EXT_GROUP] = SPEC(EXT_GROUP_F),
    [T_EXT_BUFFER] = SPEC(EXT_BUFFER_F)};

#define MAX_DEPTH 64
#define MAX_TABLES 1000000

typedef struct walker {
  fb_buf b;
  int tables;
} walker;

static ep_status bad(const char *what, uint64_t pos) {
  return ep_fail(EP_ERROR_MODEL, "invalid model: %s at byte %llu", what, (unsigned long long)pos);
}

/* The table a union tag selects, or -1 for a tag outside the schema. Builtin options tables are checked
 * generically (T_ANY); kernels read them through bounds-checked accessors. */
static int union_table(int un, uint8_t tag) {
  switch (un) {
    case U_OPTIONS: return tag < EP_OPTIONS_COUNT ? T_ANY : -1;
    case U_OPTIONS2: return tag <= SCHEMA_MAX_OPTIONS2 ? T_ANY : -1;
    case U_QUANT_DETAILS:
      return tag == QUANT_DETAILS_CUSTOM ? T_CUSTOM_QUANT : tag <= SCHEMA_MAX_QUANT_DETAILS ? T_ANY : -1;
    case U_SPARSE_INDEX:
      return tag == SPARSE_INDEX_INT32 ? T_INT32_VEC
             : tag == SPARSE_INDEX_UINT16 ? T_UINT16_VEC
             : tag == SPARSE_INDEX_UINT8 ? T_UINT8_VEC : -1;
    default: return -1;
  }
}

/* Follows the uoffset stored at `at` and returns the target position in *out. */
static ep_status follow(const walker *w, uint64_t at, uint64_t *out) {
  if (!fb_check_range(&w->b, at, 4, 4)) return bad("offset out of bounds", at);
  uint64_t target = at + fb_u32(w->b.data + at);
  if (target >= w->b.size) return bad("offset points past the end", at);
  *out = target;
  return EP_OK;
}

static ep_status check_vector(const walker *w, uint64_t v, uint64_t elem_bytes, uint32_t *count) {
  if (!fb_check_range(&w->b, v, 4, 4)) return bad("vector length out of bounds", v);
  *count = fb_u32(w->b.data + v);
  if (!fb_check_range(&w->b, v + 4, (uint64_t)*count * elem_bytes, 1)) return bad("vector overruns the file", v);
  return EP_OK;
}

static ep_status check_string(const walker *w, uint64_t s) {
  uint32_t len = 0;
  ep_status st = check_vector(w, s, 1, &len);
  if (st != EP_OK) return st;
  if (!fb_check_range(&w->b, s + 4 + len, 1, 1) || w->b.data[s + 4 + len] != 0)
    return bad("string is not terminated", s);
  return EP_OK;
}

static ep_status check_table(walker *w, uint64_t t, int table, int depth);

static ep_status check_vector_of_refs(walker *w, uint64_t v, int table, int depth) {
  uint32_t count = 0;
  ep_status st = check_vector(w, v, 4, &count);
  for (uint32_t i = 0; st == EP_OK && i < count; i++) {
    uint64_t target;
    st = follow(w, v + 4 + 4ull * i, &target);
    if (st == EP_OK) st = table < 0 ? check_string(w, target) : check_table(w, target, table, depth + 1);
  }
  return st;
}

/* Checks one present field at table position t with field offset f inside an object of obj_bytes. */
static ep_status check_field(walker *w, uint64_t t, uint32_t f, uint32_t obj_bytes, const field_spec *fs,
                             int depth) {
  uint64_t size = fs->kind == K_SCALAR ? fs->arg : 4;
  if (f < 4 || f + size > obj_bytes || (t + f) % size != 0) return bad("misplaced table field", t + f);
  if (fs->kind == K_SCALAR) return EP_OK;
  uint64_t target;
  ep_status st = follow(w, t + f, &target);
  if (st != EP_OK) return st;
  uint32_t count = 0;
  switch (fs->kind) {
    case K_STRING: return check_string(w, target);
    case K_VEC_SCALAR: return check_vector(w, target, fs->arg, &count);
    case K_VEC_STRING: return check_vector_of_refs(w, target, -1, depth);
    case K_TABLE: return check_table(w, target, fs->arg, depth + 1);
    case K_VEC_TABLE: return check_vector_of_refs(w, target, fs->arg, depth);
    default: break;
  }
  /* K_UNION: the tag lives in another field of the same table. */
  uint32_t vt = (uint32_t)((int64_t)t - fb_i32(w->b.data + t));
  uint32_t vt_bytes = fb_u16(w->b.data + vt), entry = 4u + 2u * fs->tag;
  uint32_t tag_f = entry + 2 <= vt_bytes ? fb_u16(w->b.data + vt + entry) : 0;
  uint8_t tag = tag_f ? w->b.data[t + tag_f] : 0;
  if (tag == 0) return EP_OK;
  int table = union_table(fs->arg, tag);
  if (table < 0) return bad("unknown union type", t + tag_f);
  return check_table(w, target, table, depth + 1);
}

static ep_status check_table(walker *w, uint64_t t, int table, int depth) {
  if (depth > MAX_DEPTH) return bad("tables nested too deeply", t);
  if (++w->tables > MAX_TABLES) return bad("too many tables", t);
  if (!fb_check_range(&w->b, t, 4, 4)) return bad("table out of bounds", t);
  int64_t vt = (int64_t)t - fb_i32(w->b.data + t);
  if (vt < 0 || !fb_check_range(&w->b, (uint64_t)vt, 4, 2)) return bad("vtable out of bounds", t);
  uint32_t vt_bytes = fb_u16(w->b.data + vt), obj_bytes = fb_u16(w->b.data + vt + 2);
  if (vt_bytes < 4 || vt_bytes % 2 || !fb_check_range(&w->b, (uint64_t)vt, vt_bytes, 2))
    return bad("malformed vtable", (uint64_t)vt);
  if (obj_bytes < 4 || !fb_check_range(&w->b, t, obj_bytes, 1)) return bad("table overruns the file", t);
  uint32_t fields = (vt_bytes - 4) / 2;
  /* Every present field must lie inside the object, known or not, so generic readers stay in bounds. */
  for (uint32_t i = 0; i < fields; i++) {
    uint32_t f = fb_u16(w->b.data + vt + 4 + 2 * i);
    if (f && (f < 4 || f >= obj_bytes)) return bad("field outside its table", t);
  }
  const table_spec *spec = &TABLES[table];
  for (int i = 0; i < spec->count; i++) {
    const field_spec *fs = &spec->fields[i];
    uint32_t f = fs->slot < fields ? fb_u16(w->b.data + vt + 4 + 2 * fs->slot) : 0;
    if (!f) continue;
    ep_status st = check_field(w, t, f, obj_bytes, fs, depth);
    if (st != EP_OK) return st;
  }
  return EP_OK;
}

ep_status ep_verify_flatbuffer(const uint8_t *data, size_t size) {
  /* FlatBuffers address at most 2 GiB; larger files keep their extra weights past that, reached through
   * Buffer.offset (checked by model.c against the whole file). */
  walker w = {{data, size < FB_MAX_SIZE ? size : FB_MAX_SIZE}, 0};
  if (size < 8) return ep_fail(EP_ERROR_MODEL, "invalid model: %zu bytes is too short for a .tflite file", size);
  if (memcmp(data + 4, SCHEMA_IDENTIFIER, 4) != 0)
    return ep_fail(EP_ERROR_MODEL, "invalid model: file identifier is not \"" SCHEMA_IDENTIFIER "\"");
  uint64_t root;
  ep_status st = follow(&w, 0, &root);
  return st != EP_OK ? st : check_table(&w, root, T_MODEL, 0);
}
