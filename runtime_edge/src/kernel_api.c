/* The services kernel.h promises: tensor access, shapes, bounds-checked options, memory, threads, errors. */
#include <stdio.h>
#include <string.h>

#include "errors.h"
#include "flatbuffer.h"
#include "interpreter.h"

ep_tensor *ep_input(ep_context *ctx, const ep_node *node, int i) {
  return i >= 0 && i < node->num_inputs && node->inputs[i] >= 0 ? &ctx->tensors[node->inputs[i]] : NULL;
}

ep_tensor *ep_output(ep_context *ctx, const ep_node *node, int i) {
  return i >= 0 && i < node->num_outputs && node->outputs[i] >= 0 ? &ctx->tensors[node->outputs[i]] : NULL;
}

ep_status ep_kernel_fail(ep_context *ctx, const ep_node *node, ep_status status, const char *fmt, ...) {
  (void)ctx;
  char message[400];
  va_list args;
  va_start(args, fmt);
  vsnprintf(message, sizeof message, fmt, args);
  va_end(args);
  return ep_fail(status, "%s (op %d): %s", ep_builtin_op_name(node->builtin_code), node->index, message);
}

ep_status ep_set_shape(ep_context *ctx, ep_tensor *t, int32_t rank, const int32_t *dims) {
  int32_t index = (int32_t)(t - ctx->tensors);
  if (ctx->phase != PHASE_PREPARE || index < 0 || index >= ctx->num_tensors)
    return ep_fail(EP_ERROR_STATE, "ep_set_shape outside prepare or on a foreign tensor");
  const ep_node *n = ctx->current;
  if (rank < 0 || rank > EP_MAX_RANK)
    return ep_kernel_fail(ctx, n, EP_ERROR_UNSUPPORTED, "output '%s' would have rank %d (at most %d)", t->name,
                          rank, EP_MAX_RANK);
  size_t bytes = ep_dtype_size(t->type);
  for (int32_t i = 0; i < rank; i++) {
    if (dims[i] < 0)
      return ep_kernel_fail(ctx, n, EP_ERROR_MODEL, "output '%s' would have dimension %d = %d", t->name, i,
                            dims[i]);
    if (dims[i] && bytes > EP_MAX_TENSOR_BYTES / (size_t)dims[i])
      return ep_kernel_fail(ctx, n, EP_ERROR_MEMORY, "output '%s' would be too large", t->name);
    bytes *= (size_t)dims[i];
  }
  if (bytes > EP_MAX_TENSOR_BYTES)
    return ep_kernel_fail(ctx, n, EP_ERROR_MEMORY, "output '%s' would be too large", t->name);
  if (t->is_constant) {
    if (t->rank != rank || memcmp(t->dims, dims, (size_t)rank * sizeof *dims) != 0)
      return ep_kernel_fail(ctx, n, EP_ERROR_MODEL, "constant '%s' has a different shape", t->name);
  } else {
    t->rank = rank;
    if (rank) memcpy(t->dims, dims, (size_t)rank * sizeof *dims);
    t->bytes = bytes;
  }
  ctx->shape_set[index] = 1;
  return EP_OK;
}

ep_status ep_activation_range_f32(ep_context *ctx, const ep_node *node, int activation, float *lo, float *hi) {
  static const float INF = __builtin_inff();
  switch (activation) {
    case EP_ACT_NONE: *lo = -INF, *hi = INF; return EP_OK;
    case EP_ACT_RELU: *lo = 0.0f, *hi = INF; return EP_OK;
    case EP_ACT_RELU_N1_TO_1: *lo = -1.0f, *hi = 1.0f; return EP_OK;
    case EP_ACT_RELU6: *lo = 0.0f, *hi = 6.0f; return EP_OK;
    default: return ep_kernel_fail(ctx, node, EP_ERROR_UNSUPPORTED, "fused activation %d", activation);
  }
}

/* ---- options: every read re-checks bounds against the table's own size, so a wrong slot is harmless ---- */

/* Position of field `slot` when it is present and `bytes` long inside the object; 0 otherwise. */
static uint32_t option_field(const ep_node *node, int slot, uint32_t bytes) {
  const ep_options_table *o = &node->options;
  if (!o->table || slot < 0) return 0;
  const uint8_t *base = o->base;
  uint32_t vt = (uint32_t)((int64_t)o->table - fb_i32(base + o->table));
  uint32_t vt_bytes = fb_u16(base + vt), obj_bytes = fb_u16(base + vt + 2);
  uint32_t entry = 4u + 2u * (uint32_t)slot;
  if (entry + 2 > vt_bytes) return 0;
  uint32_t f = fb_u16(base + vt + entry);
  return f && f + bytes <= obj_bytes ? o->table + f : 0;
}

#define OPTION_READER(name, type)                               \
  type name(const ep_node *node, int slot, type def) {          \
    uint32_t at = option_field(node, slot, sizeof(type));       \
    type v;                                                     \
    if (!at) return def;                                        \
    memcpy(&v, node->options.base + at, sizeof v);              \
    return v;                                                   \
  }
OPTION_READER(ep_opt_i8, int8_t)
OPTION_READER(ep_opt_u8, uint8_t)
OPTION_READER(ep_opt_i16, int16_t)
OPTION_READER(ep_opt_i32, int32_t)
OPTION_READER(ep_opt_u32, uint32_t)
OPTION_READER(ep_opt_i64, int64_t)
OPTION_READER(ep_opt_f32, float)
#undef OPTION_READER

int ep_opt_bool(const ep_node *node, int slot, int def) { return ep_opt_u8(node, slot, (uint8_t)(def != 0)) != 0; }

static const void *option_vector(const ep_node *node, int slot, uint32_t elem, int32_t *count) {
  *count = 0;
  uint32_t at = option_field(node, slot, 4);
  if (!at) return NULL;
  const ep_options_table *o = &node->options;
  uint64_t v = (uint64_t)at + fb_u32(o->base + at);
  if (v % 4 || v + 4 > o->size) return NULL;
  uint64_t n = fb_u32(o->base + v);
  if ((v + 4) % elem || n > (o->size - v - 4) / elem || n > INT32_MAX) return NULL;
  *count = (int32_t)n;
  return o->base + v + 4;
}

const int32_t *ep_opt_vec_i32(const ep_node *node, int slot, int32_t *count) {
  return option_vector(node, slot, 4, count);
}

const int64_t *ep_opt_vec_i64(const ep_node *node, int slot, int32_t *count) {
  return option_vector(node, slot, 8, count);
}

const float *ep_opt_vec_f32(const ep_node *node, int slot, int32_t *count) {
  return option_vector(node, slot, 4, count);
}

/* ---- memory ---- */

void *ep_alloc_persistent(ep_context *ctx, size_t bytes) {
  if (ctx->phase != PHASE_PREPARE) {
    ep_fail(EP_ERROR_STATE, "ep_alloc_persistent outside prepare");
    return NULL;
  }
  void *p = ep_pool_alloc(&ctx->persistent, 1, bytes ? bytes : 1);
  if (!p) ep_fail(EP_ERROR_MEMORY, "out of memory allocating %zu bytes of kernel state", bytes);
  return p;
}

ep_status ep_request_scratch(ep_context *ctx, ep_node *node, size_t bytes, int *slot) {
  if (ctx->phase != PHASE_PREPARE) return ep_fail(EP_ERROR_STATE, "ep_request_scratch outside prepare");
  if (node->num_scratch >= EP_MAX_SCRATCH)
    return ep_kernel_fail(ctx, node, EP_ERROR_KERNEL, "more than %d scratch buffers", EP_MAX_SCRATCH);
  if (bytes > EP_MAX_TENSOR_BYTES) return ep_kernel_fail(ctx, node, EP_ERROR_MEMORY, "scratch of %zu bytes", bytes);
  *slot = node->num_scratch++;
  ctx->scratch_size[(size_t)node->index * EP_MAX_SCRATCH + (size_t)*slot] = bytes;
  return EP_OK;
}

void *ep_scratch(ep_context *ctx, const ep_node *node, int slot) {
  if (slot < 0 || slot >= node->num_scratch) return NULL;
  if (ctx->folded[node->index]) return ctx->fold_scratch[(size_t)node->index * EP_MAX_SCRATCH + (size_t)slot];
  if (!ctx->arena) return NULL;
  return ctx->arena + ctx->scratch_offset[(size_t)node->index * EP_MAX_SCRATCH + (size_t)slot];
}

/* ---- threads ---- */

int ep_num_threads(const ep_context *ctx) { return ctx->num_threads; }

void ep_parallel_for(ep_context *ctx, int64_t n, int64_t grain, ep_range_fn fn, void *arg) {
  if (n <= 0) return;
  if (!ctx->threads) {
    fn(arg, 0, n, 0);
    return;
  }
  ep_threadpool_run(ctx->threads, n, grain, fn, arg);
}
