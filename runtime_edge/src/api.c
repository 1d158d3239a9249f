/* Read-only queries of the public API: tensors, inputs/outputs, sparsity, signatures, arena, ops. */
#include <string.h>

#include "errors.h"
#include "interpreter.h"

const char *ep_version(void) { return "0.1.0"; }

int32_t ep_interpreter_tensor_count(const ep_interpreter *interp) { return interp ? interp->ctx.num_tensors : 0; }

static ep_status tensor_at(const ep_interpreter *interp, int32_t tensor, const ep_tensor **out) {
  if (!interp) return ep_fail(EP_ERROR_ARGUMENT, "null interpreter");
  if (tensor < 0 || tensor >= interp->ctx.num_tensors)
    return ep_fail(EP_ERROR_ARGUMENT, "tensor index %d out of range [0, %d)", tensor, interp->ctx.num_tensors);
  *out = &interp->ctx.tensors[tensor];
  return EP_OK;
}

ep_status ep_interpreter_tensor(const ep_interpreter *interp, int32_t tensor, ep_tensor_info *out) {
  const ep_tensor *t = NULL;
  ep_status st = tensor_at(interp, tensor, &t);
  if (st != EP_OK || !out) return st != EP_OK ? st : ep_fail(EP_ERROR_ARGUMENT, "null output");
  memset(out, 0, sizeof *out);
  out->name = t->name;
  out->dtype = t->type;
  out->rank = t->rank;
  memcpy(out->dims, t->dims, sizeof out->dims);
  out->signature_rank = t->signature_rank;
  memcpy(out->signature, t->signature, sizeof out->signature);
  out->data = t->data;
  out->bytes = t->bytes;
  out->is_constant = t->is_constant;
  out->is_variable = t->is_variable;
  out->quant_count = t->quant_count;
  out->quant_axis = t->quant_axis;
  out->quant_scales = t->scale;
  out->quant_zero_points = t->zero_point;
  out->is_sparse = t->sparsity != NULL;
  return EP_OK;
}

int32_t ep_interpreter_input_count(const ep_interpreter *interp) {
  return interp ? interp->ctx.graph->num_inputs : 0;
}

int32_t ep_interpreter_input(const ep_interpreter *interp, int32_t i) {
  return interp && i >= 0 && i < interp->ctx.graph->num_inputs ? interp->ctx.graph->inputs[i] : -1;
}

int32_t ep_interpreter_output_count(const ep_interpreter *interp) {
  return interp ? interp->ctx.graph->num_outputs : 0;
}

int32_t ep_interpreter_output(const ep_interpreter *interp, int32_t i) {
  return interp && i >= 0 && i < interp->ctx.graph->num_outputs ? interp->ctx.graph->outputs[i] : -1;
}

ep_status ep_interpreter_sparsity(const ep_interpreter *interp, int32_t tensor, int32_t *rank,
                                  const int32_t **traversal_order, int32_t *block_map_count,
                                  const int32_t **block_map) {
  const ep_tensor *t = NULL;
  ep_status st = tensor_at(interp, tensor, &t);
  if (st != EP_OK) return st;
  if (!t->sparsity) return ep_fail(EP_ERROR_ARGUMENT, "tensor %d is not sparse", tensor);
  *rank = t->sparsity->order_count;
  *traversal_order = t->sparsity->traversal_order;
  *block_map_count = t->sparsity->block_map_count;
  *block_map = t->sparsity->block_map;
  return EP_OK;
}

ep_status ep_interpreter_sparsity_dim(const ep_interpreter *interp, int32_t tensor, int32_t dim,
                                      ep_sparsity_dim *out) {
  const ep_tensor *t = NULL;
  ep_status st = tensor_at(interp, tensor, &t);
  if (st != EP_OK) return st;
  if (!t->sparsity || dim < 0 || dim >= t->sparsity->order_count)
    return ep_fail(EP_ERROR_ARGUMENT, "tensor %d has no sparse dimension %d", tensor, dim);
  *out = t->sparsity->dims[dim];
  return EP_OK;
}

int32_t ep_interpreter_signature_count(const ep_interpreter *interp) {
  return interp ? interp->ctx.model->num_signatures : 0;
}

static ep_status signature_at(const ep_interpreter *interp, int32_t sig, const ep_signature_desc **out) {
  if (!interp) return ep_fail(EP_ERROR_ARGUMENT, "null interpreter");
  if (sig < 0 || sig >= interp->ctx.model->num_signatures)
    return ep_fail(EP_ERROR_ARGUMENT, "signature %d out of range", sig);
  *out = &interp->ctx.model->signatures[sig];
  return EP_OK;
}

ep_status ep_interpreter_signature(const ep_interpreter *interp, int32_t sig, const char **key, int32_t *subgraph,
                                   int32_t *input_count, int32_t *output_count) {
  const ep_signature_desc *s = NULL;
  ep_status st = signature_at(interp, sig, &s);
  if (st != EP_OK) return st;
  *key = s->key;
  *subgraph = s->subgraph;
  *input_count = s->num_inputs;
  *output_count = s->num_outputs;
  return EP_OK;
}

ep_status ep_interpreter_signature_io(const ep_interpreter *interp, int32_t sig, int32_t is_output, int32_t i,
                                      const char **name, int32_t *tensor) {
  const ep_signature_desc *s = NULL;
  ep_status st = signature_at(interp, sig, &s);
  if (st != EP_OK) return st;
  int32_t n = is_output ? s->num_outputs : s->num_inputs;
  if (i < 0 || i >= n)
    return ep_fail(EP_ERROR_ARGUMENT, "signature %d has no %s %d", sig, is_output ? "output" : "input", i);
  const ep_tensor_map *m = is_output ? &s->outputs[i] : &s->inputs[i];
  *name = m->name;
  *tensor = m->tensor;
  return EP_OK;
}

ep_status ep_interpreter_arena(const ep_interpreter *interp, size_t *arena_bytes, size_t *naive_bytes,
                               size_t *persistent_bytes) {
  if (!interp) return ep_fail(EP_ERROR_ARGUMENT, "null interpreter");
  if (interp->ctx.phase != PHASE_READY) return ep_fail(EP_ERROR_STATE, "the arena is planned by allocate");
  *arena_bytes = interp->ctx.arena_bytes;
  *naive_bytes = interp->ctx.naive_bytes;
  *persistent_bytes = interp->ctx.persistent.used;
  return EP_OK;
}

int32_t ep_interpreter_op_count(const ep_interpreter *interp) { return interp ? interp->ctx.num_nodes : 0; }

ep_status ep_interpreter_op(const ep_interpreter *interp, int32_t op, int32_t *builtin_code, const char **name,
                            uint64_t *last_ns) {
  if (!interp) return ep_fail(EP_ERROR_ARGUMENT, "null interpreter");
  if (op < 0 || op >= interp->ctx.num_nodes) return ep_fail(EP_ERROR_ARGUMENT, "op %d out of range", op);
  const ep_node *n = &interp->ctx.nodes[op];
  *builtin_code = n->builtin_code;
  *name = ep_builtin_op_name(n->builtin_code);
  *last_ns = interp->ctx.op_ns[op];
  return EP_OK;
}

int32_t ep_interpreter_op_output(const ep_interpreter *interp, int32_t op) {
  if (!interp || op < 0 || op >= interp->ctx.num_nodes) return -1;
  const ep_node *n = &interp->ctx.nodes[op];
  return n->num_outputs > 0 ? n->outputs[0] : -1;
}
