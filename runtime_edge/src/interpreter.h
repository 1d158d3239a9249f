/* Interpreter state. ep_context is what kernels receive; the public ep_interpreter handle wraps it. */
#ifndef EP_INTERPRETER_H
#define EP_INTERPRETER_H

#include "kernel.h"
#include "model.h"
#include "planner.h"
#include "pool.h"
#include "threadpool.h"

#define EP_ARENA_ALIGN 64

typedef enum ep_phase { PHASE_CREATED, PHASE_PREPARE, PHASE_READY, PHASE_EVAL } ep_phase;

struct ep_context {
  ep_model *model;
  const ep_subgraph_desc *graph;  /* the main subgraph */
  int32_t num_tensors;
  ep_tensor *tensors;
  int32_t num_nodes;
  ep_node *nodes;
  int32_t *producer;              /* per tensor: op index writing it, -1 if none */
  uint8_t *shape_set;             /* per tensor, during prepare: an output shape was set */
  ep_phase phase;
  const ep_node *current;         /* the node being prepared */
  ep_pool persistent;             /* kernels' user data, rebuilt at every prepare */
  size_t *scratch_size;           /* num_nodes * EP_MAX_SCRATCH */
  size_t *scratch_offset;
  void **fold_scratch;            /* num_nodes * EP_MAX_SCRATCH, scratch of folded nodes */
  uint8_t *folded;                /* per node: evaluated at prepare, skipped at invoke */
  uint8_t *arena;
  size_t arena_bytes, naive_bytes;
  const ep_planner *planner;
  ep_threadpool *threads;
  int num_threads;
  int profile;
  int preserve_all;
  uint64_t *op_ns;                /* per op, last invoke (profile only) */
};

struct ep_interpreter {
  ep_context ctx;
};

#endif
