/* The interpreter's life cycle: create (resolve kernels, check the graph), resize, allocate (prepare every
 * node in order, then plan one arena), invoke (eval every node, optionally timed). */
#define _POSIX_C_SOURCE 200809L
#include "interpreter.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "errors.h"
#include "fold.h"
#include "registry.h"

/* The dtype a kernel is keyed on: input 0's, else output 0's. */
static int32_t key_dtype(const ep_context *ctx, const ep_op_desc *op) {
  if (op->num_inputs > 0 && op->inputs[0] >= 0) return ctx->tensors[op->inputs[0]].type;
  if (op->num_outputs > 0 && op->outputs[0] >= 0) return ctx->tensors[op->outputs[0]].type;
  return EP_ANY_DTYPE;
}

static void init_nodes(ep_context *ctx) {
  for (int32_t i = 0; i < ctx->num_nodes; i++) {
    const ep_op_desc *op = &ctx->graph->ops[i];
    ctx->nodes[i] = (ep_node){.index = i, .builtin_code = op->builtin_code, .version = op->version,
                              .num_inputs = op->num_inputs, .num_outputs = op->num_outputs, .inputs = op->inputs,
                              .outputs = op->outputs, .options_type = op->options_type,
                              .options = {ctx->model->fb.data, ctx->model->fb.size, op->options_table},
                              .custom_options = op->custom_options, .custom_options_size = op->custom_options_size};
  }
}

static ep_status resolve(ep_context *ctx) {
  uint32_t isa = ep_cpu_isa_mask();
  int32_t missing = 0, first = -1;
  for (int32_t i = 0; i < ctx->num_nodes; i++) {
    const ep_op_desc *op = &ctx->graph->ops[i];
    ep_node *n = &ctx->nodes[i];
    n->kernel = op->builtin_code == EP_OP_CUSTOM ? NULL : ep_kernel_find(op->builtin_code, key_dtype(ctx, op), isa);
    if (!n->kernel) {
      if (first < 0) first = i;
      missing++;
      continue;
    }
    int32_t want = n->kernel->options_type;
    if (want != EP_OPTIONS_NONE && n->options_type != EP_OPTIONS_NONE && n->options_type != want)
      return ep_fail(EP_ERROR_MODEL, "invalid model: %s (op %d) carries options of union type %d, expected %d",
                     ep_builtin_op_name(n->builtin_code), i, n->options_type, want);
  }
  if (!missing) return EP_OK;
  const ep_op_desc *op = &ctx->graph->ops[first];
  if (op->builtin_code == EP_OP_CUSTOM)
    return ep_fail(EP_ERROR_UNSUPPORTED, "unsupported custom op '%s' (op %d); %d unsupported op(s) in total",
                   op->custom_code, first, missing);
  int32_t dtype = key_dtype(ctx, op);
  return ep_fail(EP_ERROR_UNSUPPORTED, "unsupported op %s (op %d) with %s input; %d unsupported op(s) in total",
                 ep_builtin_op_name(op->builtin_code), first, dtype < 0 ? "no" : ep_dtype_name(dtype), missing);
}

/* Producers and consumers must make a dataflow graph in execution order: nothing writes a constant or a
 * graph input, nothing is written twice, and every read tensor exists by the time it is read. */
static ep_status check_dataflow(ep_context *ctx) {
  const ep_subgraph_desc *g = ctx->graph;
  for (int32_t t = 0; t < ctx->num_tensors; t++) ctx->producer[t] = -1;
  for (int32_t i = 0; i < g->num_inputs; i++) {
    ep_tensor *t = &ctx->tensors[g->inputs[i]];
    if (t->is_constant)
      return ep_fail(EP_ERROR_UNSUPPORTED, "graph input %d ('%s') is a constant tensor", i, t->name);
    ctx->producer[g->inputs[i]] = -2;
  }
  for (int32_t i = 0; i < ctx->num_nodes; i++) {
    const ep_node *n = &ctx->nodes[i];
    for (int32_t k = 0; k < n->num_inputs; k++) {
      int32_t t = n->inputs[k];
      const ep_tensor *x = t >= 0 ? &ctx->tensors[t] : NULL;
      if (!x || x->is_constant || x->is_variable || x->bytes == 0 || ctx->producer[t] != -1) continue;
      return ep_fail(EP_ERROR_MODEL, "invalid model: %s (op %d) reads tensor %d ('%s') before anything writes it",
                     ep_builtin_op_name(n->builtin_code), i, t, x->name);
    }
    for (int32_t k = 0; k < n->num_outputs; k++) {
      int32_t t = n->outputs[k];
      if (t < 0) continue;
      const ep_tensor *x = &ctx->tensors[t];
      if (x->is_constant || x->is_variable || ctx->producer[t] != -1)
        return ep_fail(EP_ERROR_MODEL, "invalid model: %s (op %d) writes tensor %d ('%s'), which is %s",
                       ep_builtin_op_name(n->builtin_code), i, t, x->name,
                       x->is_constant ? "a constant" : x->is_variable ? "a variable"
                       : ctx->producer[t] == -2 ? "a graph input" : "written by another op");
      ctx->producer[t] = i;
    }
  }
  return EP_OK;
}

ep_status ep_interpreter_create(ep_model *model, const ep_options *options, ep_interpreter **out) {
  if (!model || !out) return ep_fail(EP_ERROR_ARGUMENT, "ep_interpreter_create: null argument");
  *out = NULL;
  ep_interpreter *interp = calloc(1, sizeof *interp);
  if (!interp) return ep_fail(EP_ERROR_MEMORY, "out of memory");
  ep_context *ctx = &interp->ctx;
  ep_model_retain(model);
  ctx->model = model;
  ctx->graph = &model->subgraphs[0];
  ctx->num_tensors = ctx->graph->num_tensors;
  ctx->num_nodes = ctx->graph->num_ops;
  ctx->planner = &ep_greedy_planner;
  ctx->num_threads = options && options->num_threads > 1 ? options->num_threads : 1;
  ctx->profile = options && options->profile;
  ctx->preserve_all = options && options->preserve_all;
  size_t nt = (size_t)ctx->num_tensors + 1, nn = (size_t)ctx->num_nodes + 1;
  ctx->tensors = malloc(nt * sizeof *ctx->tensors);
  ctx->nodes = calloc(nn, sizeof *ctx->nodes);
  ctx->producer = malloc(nt * sizeof *ctx->producer);
  ctx->shape_set = calloc(nt, 1);
  ctx->scratch_size = calloc(nn * EP_MAX_SCRATCH, sizeof *ctx->scratch_size);
  ctx->scratch_offset = calloc(nn * EP_MAX_SCRATCH, sizeof *ctx->scratch_offset);
  ctx->op_ns = calloc(nn, sizeof *ctx->op_ns);
  ctx->fold_scratch = calloc(nn * EP_MAX_SCRATCH, sizeof *ctx->fold_scratch);
  ctx->folded = calloc(nn, 1);
  ep_status st = EP_OK;
  if (!ctx->tensors || !ctx->nodes || !ctx->producer || !ctx->shape_set || !ctx->scratch_size ||
      !ctx->scratch_offset || !ctx->op_ns || !ctx->fold_scratch || !ctx->folded)
    st = ep_fail(EP_ERROR_MEMORY, "out of memory creating an interpreter for %d tensors", ctx->num_tensors);
  if (st == EP_OK) {
    memcpy(ctx->tensors, ctx->graph->tensors, (size_t)ctx->num_tensors * sizeof *ctx->tensors);
    init_nodes(ctx);
    if ((st = check_dataflow(ctx)) == EP_OK) st = resolve(ctx);
  }
  if (st == EP_OK && ctx->num_threads > 1) st = ep_threadpool_create(ctx->num_threads, &ctx->threads);
  if (st != EP_OK) {
    ep_interpreter_destroy(interp);
    return st;
  }
  *out = interp;
  return EP_OK;
}

void ep_interpreter_destroy(ep_interpreter *interp) {
  if (!interp) return;
  ep_context *ctx = &interp->ctx;
  ep_threadpool_destroy(ctx->threads);
  ep_pool_free(&ctx->persistent);
  free(ctx->arena);
  free(ctx->tensors);
  free(ctx->nodes);
  free(ctx->producer);
  free(ctx->shape_set);
  free(ctx->scratch_size);
  free(ctx->scratch_offset);
  free(ctx->op_ns);
  free(ctx->fold_scratch);
  free(ctx->folded);
  ep_model_release(ctx->model);
  free(interp);
}

static int is_graph_input(const ep_context *ctx, int32_t t) {
  for (int32_t i = 0; i < ctx->graph->num_inputs; i++)
    if (ctx->graph->inputs[i] == t) return 1;
  return 0;
}

ep_status ep_interpreter_resize_input(ep_interpreter *interp, int32_t tensor, int32_t rank, const int32_t *dims) {
  if (!interp || (rank > 0 && !dims)) return ep_fail(EP_ERROR_ARGUMENT, "resize_input: null argument");
  ep_context *ctx = &interp->ctx;
  if (tensor < 0 || tensor >= ctx->num_tensors || !is_graph_input(ctx, tensor))
    return ep_fail(EP_ERROR_ARGUMENT, "tensor %d is not an input of the model", tensor);
  if (rank < 0 || rank > EP_MAX_RANK)
    return ep_fail(EP_ERROR_ARGUMENT, "cannot resize input %d to rank %d (at most %d)", tensor, rank, EP_MAX_RANK);
  ep_tensor *t = &ctx->tensors[tensor];
  if (t->rank == rank && (rank == 0 || memcmp(t->dims, dims, (size_t)rank * sizeof *dims) == 0))
    return EP_OK; /* unchanged: keep the plan and the data, as TFLite does */
  size_t bytes = ep_dtype_size(t->type);
  for (int32_t i = 0; i < rank; i++) {
    if (dims[i] < 0)
      return ep_fail(EP_ERROR_ARGUMENT, "cannot resize input '%s': dimension %d is %d", t->name, i, dims[i]);
    if (dims[i] && bytes > EP_MAX_TENSOR_BYTES / (size_t)dims[i])
      return ep_fail(EP_ERROR_ARGUMENT, "cannot resize input '%s': too large", t->name);
    bytes *= (size_t)dims[i];
  }
  if (bytes > EP_MAX_TENSOR_BYTES) return ep_fail(EP_ERROR_ARGUMENT, "cannot resize input '%s': too large", t->name);
  t->rank = rank;
  memcpy(t->dims, dims, (size_t)rank * sizeof *dims);
  t->bytes = bytes;
  t->data = NULL;
  ctx->phase = PHASE_CREATED;
  return EP_OK;
}

static ep_status prepare_nodes(ep_context *ctx) {
  for (int32_t t = 0; t < ctx->num_tensors; t++) {
    ep_tensor *x = &ctx->tensors[t];
    ctx->shape_set[t] = 0;
    if (ctx->graph->tensors[t].is_constant) continue;
    x->is_constant = 0; /* folded at the previous prepare, maybe */
    x->data = NULL;
    if (ctx->producer[t] >= 0) {
      x->rank = x->model_rank;
      memcpy(x->dims, x->model_dims, sizeof x->dims);
    }
  }
  ep_pool_free(&ctx->persistent);
  memset(ctx->scratch_size, 0, (size_t)ctx->num_nodes * EP_MAX_SCRATCH * sizeof *ctx->scratch_size);
  memset(ctx->folded, 0, (size_t)ctx->num_nodes);
  for (int32_t i = 0; i < ctx->num_nodes; i++) {
    ep_node *n = &ctx->nodes[i];
    n->user_data = NULL;
    n->num_scratch = 0;
    ctx->current = n;
    if (n->kernel->prepare) {
      ep_status st = n->kernel->prepare(ctx, n);
      if (st != EP_OK) return st;
    }
    for (int32_t k = 0; k < n->num_outputs; k++) {
      int32_t t = n->outputs[k];
      if (t >= 0 && !ctx->shape_set[t])
        return ep_kernel_fail(ctx, n, EP_ERROR_KERNEL, "kernel %s did not set the shape of output %d",
                              n->kernel->name, k);
    }
    if (ep_foldable(ctx, n)) {
      ep_status st = ep_fold(ctx, n);
      if (st != EP_OK) return st;
    }
  }
  return EP_OK;
}

/* Lifetimes: producer (or 0) through last reader; graph inputs, outputs and variables (and, with
 * preserve_all, every tensor) live for the whole run so they never share bytes with anything. Scratch lives
 * during its op only. */
static ep_status plan_arena(ep_context *ctx) {
  int32_t nt = ctx->num_tensors, nn = ctx->num_nodes, end = nn > 0 ? nn - 1 : 0;
  size_t max_buffers = (size_t)nt + (size_t)nn * EP_MAX_SCRATCH;
  ep_plan_buffer *buf = calloc(max_buffers + 1, sizeof *buf);
  int32_t *first = malloc(((size_t)nt + 1) * sizeof *first), *last = malloc(((size_t)nt + 1) * sizeof *last);
  if (!buf || !first || !last) {
    free(buf);
    free(first);
    free(last);
    return ep_fail(EP_ERROR_MEMORY, "out of memory planning the arena");
  }
  for (int32_t t = 0; t < nt; t++) {
    first[t] = ctx->producer[t] >= 0 ? ctx->producer[t] : -1;
    last[t] = -1;
  }
  for (int32_t i = 0; i < ctx->graph->num_inputs; i++) {
    first[ctx->graph->inputs[i]] = 0;
    last[ctx->graph->inputs[i]] = end;
  }
  for (int32_t i = 0; i < ctx->graph->num_outputs; i++) {
    int32_t t = ctx->graph->outputs[i];
    last[t] = end;
    if (first[t] < 0) first[t] = 0;
  }
  for (int32_t i = 0; i < nn; i++) {
    const ep_node *n = &ctx->nodes[i];
    for (int32_t k = 0; k < n->num_inputs; k++) {
      int32_t t = n->inputs[k];
      if (t < 0) continue;
      if (first[t] < 0) first[t] = 0;
      if (last[t] < i) last[t] = i;
    }
    for (int32_t k = 0; k < n->num_outputs; k++)
      if (n->outputs[k] >= 0 && last[n->outputs[k]] < i) last[n->outputs[k]] = i;
  }
  int32_t count = 0;
  size_t naive = 0;
  int32_t *tensor_of = first; /* reused: buffer index per tensor once lifetimes are copied out */
  for (int32_t t = 0; t < nt; t++) {
    ep_tensor *x = &ctx->tensors[t];
    int32_t slot = -1;
    if (!x->is_constant && first[t] >= 0) {
      if (x->is_variable || ctx->preserve_all) first[t] = 0, last[t] = end;
      buf[count] = (ep_plan_buffer){x->bytes, first[t], last[t], 0};
      naive += (x->bytes + EP_ARENA_ALIGN - 1) / EP_ARENA_ALIGN * EP_ARENA_ALIGN;
      slot = count++;
    }
    tensor_of[t] = slot;
  }
  /* Scratch slots map to planned buffers through scratch_offset, holding the buffer index until planned. */
  for (int32_t i = 0; i < nn; i++)
    for (int32_t s = 0; s < EP_MAX_SCRATCH; s++) {
      size_t slot = (size_t)i * EP_MAX_SCRATCH + (size_t)s, size = ctx->scratch_size[slot];
      ctx->scratch_offset[slot] = SIZE_MAX;
      if (!size) continue;
      ctx->scratch_offset[slot] = (size_t)count;
      buf[count++] = (ep_plan_buffer){size, i, i, 0};
      naive += (size + EP_ARENA_ALIGN - 1) / EP_ARENA_ALIGN * EP_ARENA_ALIGN;
    }
  size_t arena_bytes;
  ep_status st = ctx->planner->plan(buf, count, EP_ARENA_ALIGN, &arena_bytes);
  free(ctx->arena);
  ctx->arena = NULL;
  if (st == EP_OK) {
    ctx->arena = aligned_alloc(EP_ARENA_ALIGN, arena_bytes ? arena_bytes : EP_ARENA_ALIGN);
    if (!ctx->arena) st = ep_fail(EP_ERROR_MEMORY, "out of memory allocating a %zu-byte arena", arena_bytes);
  }
  if (st == EP_OK) {
    /* Zeroed so that unset inputs and variables start from a defined state. */
    memset(ctx->arena, 0, arena_bytes);
    ctx->arena_bytes = arena_bytes;
    ctx->naive_bytes = naive;
    for (int32_t t = 0; t < nt; t++)
      if (tensor_of[t] >= 0) ctx->tensors[t].data = ctx->arena + buf[tensor_of[t]].offset;
    for (size_t i = 0; i < (size_t)nn * EP_MAX_SCRATCH; i++)
      ctx->scratch_offset[i] = ctx->scratch_offset[i] == SIZE_MAX ? 0 : buf[ctx->scratch_offset[i]].offset;
  }
  free(buf);
  free(first);
  free(last);
  return st;
}

ep_status ep_interpreter_allocate(ep_interpreter *interp) {
  if (!interp) return ep_fail(EP_ERROR_ARGUMENT, "allocate: null interpreter");
  ep_context *ctx = &interp->ctx;
  if (ctx->phase == PHASE_READY) return EP_OK; /* nothing changed since the last allocate */
  ctx->phase = PHASE_PREPARE;
  ep_status st = prepare_nodes(ctx);
  if (st == EP_OK) st = plan_arena(ctx);
  ctx->phase = st == EP_OK ? PHASE_READY : PHASE_CREATED;
  return st;
}

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

ep_status ep_interpreter_invoke(ep_interpreter *interp) {
  if (!interp) return ep_fail(EP_ERROR_ARGUMENT, "invoke: null interpreter");
  ep_context *ctx = &interp->ctx;
  if (ctx->phase != PHASE_READY)
    return ep_fail(EP_ERROR_STATE, "invoke called before allocate (or after a resize without allocate)");
  ctx->phase = PHASE_EVAL;
  ep_status st = EP_OK;
  for (int32_t i = 0; i < ctx->num_nodes && st == EP_OK; i++) {
    ep_node *n = &ctx->nodes[i];
    if (ctx->folded[i]) continue;
    uint64_t start = ctx->profile ? now_ns() : 0;
    st = n->kernel->eval(ctx, n);
    if (ctx->profile) ctx->op_ns[i] = now_ns() - start;
  }
  ctx->phase = PHASE_READY;
  return st;
}
