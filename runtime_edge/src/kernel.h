/* The internal kernel API: what a kernel sees of tensors, nodes and the interpreter.
 *
 * A kernel is a {prepare, eval} pair registered under (builtin op, dtype of input 0, ISA):
 *  - prepare(ctx, node) runs at ep_interpreter_allocate (and again after every resize). It checks input
 *    types and ranks, computes output shapes with ep_set_shape, computes anything derived from options or
 *    constant inputs once (store it in ep_alloc_persistent memory via node->user_data) and requests scratch
 *    buffers with ep_request_scratch. Data of non-constant tensors is NOT available in prepare (NULL).
 *  - eval(ctx, node) runs at every invoke. It does only the math: no allocation, no shape changes.
 * Kernels report problems with ep_kernel_fail, which names the op type and index in the message.
 *
 * Tensors: constants point into the model (read only, used in place, little-endian, aligned to their element
 * size); every other tensor lives in the planned arena. Quantization parameters are used in place too. */
#ifndef EP_KERNEL_H
#define EP_KERNEL_H

#include <stddef.h>
#include <stdint.h>

#include "builtin_ops.h"
#include "edgepress_rt.h"

typedef struct ep_context ep_context;

/* Sparsity of a sparse constant, in place from the model and verified at load: dims[i] describes traversal
 * dimension i (dense: dense_size; SPARSE_CSR: segments and indices, each of its own dtype). The loader has checked
 * that segments are non-decreasing and within indices, indices are below the dimension's size, and the
 * buffer holds exactly the values the structure addresses, so a straightforward walk stays in bounds. */
#define EP_MAX_SPARSE_DIMS (2 * EP_MAX_RANK)
typedef struct ep_sparsity {
  int32_t order_count;                /* traversal_order length: rank + block_map_count */
  const int32_t *traversal_order;
  int32_t block_map_count;
  const int32_t *block_map;
  ep_sparsity_dim dims[EP_MAX_SPARSE_DIMS];
} ep_sparsity;

typedef struct ep_tensor {
  void *data;                 /* constant: into the model; otherwise into the arena (NULL until planned) */
  size_t bytes;               /* elements * dtype size */
  int32_t type;               /* ep_dtype */
  int32_t rank;
  int32_t dims[EP_MAX_RANK];
  const float *scale;         /* quant_count scales, or NULL when not quantized */
  const int64_t *zero_point;  /* quant_count zero points, or NULL (read as 0) */
  int32_t quant_count;        /* 1 = per-tensor, > 1 = per-axis along quant_axis */
  int32_t quant_axis;
  uint8_t is_constant;
  uint8_t is_variable;
  const char *name;
  const ep_sparsity *sparsity; /* non-NULL for sparse constants (DENSIFY input) */
  /* Interpreter bookkeeping below; kernels do not touch it. */
  int32_t signature_rank;
  int32_t signature[EP_MAX_RANK];
  int32_t model_rank;
  int32_t model_dims[EP_MAX_RANK];
} ep_tensor;

/* A builtin options table, already verified by the loader; read it only through ep_opt_*. */
typedef struct ep_options_table {
  const uint8_t *base;  /* start of the model buffer */
  size_t size;          /* model buffer size */
  uint32_t table;       /* offset of the table in base, 0 when the op has no options */
} ep_options_table;

#define EP_MAX_SCRATCH 4

typedef struct ep_kernel ep_kernel;

typedef struct ep_node {
  int32_t index;              /* position in the subgraph's operator list */
  int32_t builtin_code;       /* enum ep_builtin_op */
  int32_t version;
  int32_t num_inputs;
  int32_t num_outputs;
  const int32_t *inputs;      /* tensor indices, in place from the model; -1 = omitted optional input */
  const int32_t *outputs;
  int32_t options_type;       /* enum ep_builtin_options tag of `options` */
  ep_options_table options;
  const uint8_t *custom_options;
  uint32_t custom_options_size;
  void *user_data;            /* a kernel's persistent state, set in prepare */
  int32_t num_scratch;        /* scratch slots requested in prepare */
  const ep_kernel *kernel;
} ep_node;

typedef ep_status (*ep_prepare_fn)(ep_context *ctx, ep_node *node);
typedef ep_status (*ep_eval_fn)(ep_context *ctx, ep_node *node);

typedef enum ep_isa { EP_ISA_REF = 0, EP_ISA_AVX2 = 1, EP_ISA_NEON = 2, EP_ISA_COUNT } ep_isa;

#define EP_ANY_DTYPE (-1)

/* One registration. `options_type` is the BuiltinOptions tag the op expects: the resolver rejects a node
 * carrying a different table (EP_OPTIONS_NONE = the op takes no options, any table is ignored). */
struct ep_kernel {
  int32_t op;           /* enum ep_builtin_op; -1 ends a family list */
  int32_t dtype;        /* ep_dtype of input 0 (of output 0 for ops without inputs), or EP_ANY_DTYPE */
  int32_t isa;          /* ep_isa; the resolver prefers the best ISA the CPU supports, then EP_ISA_REF */
  int32_t options_type;
  const char *name;     /* contract in the name, e.g. "add_f32_ref" */
  ep_prepare_fn prepare; /* may be NULL when the op needs no preparation beyond its shape */
  ep_eval_fn eval;
};

#define EP_KERNEL_END {-1, 0, 0, 0, NULL, NULL, NULL}

/* ---- tensors ---- */
ep_tensor *ep_input(ep_context *ctx, const ep_node *node, int i);  /* NULL if omitted or i out of range */
ep_tensor *ep_output(ep_context *ctx, const ep_node *node, int i); /* NULL if omitted or i out of range */

/* Prepare only: give a non-constant output its shape (and byte size). Fails for ranks over EP_MAX_RANK,
 * negative dims, byte-size overflow, or a constant whose stored shape differs. */
ep_status ep_set_shape(ep_context *ctx, ep_tensor *t, int32_t rank, const int32_t *dims);

static inline size_t ep_num_elements(const ep_tensor *t) {
  size_t n = 1;
  for (int32_t i = 0; i < t->rank; i++) n *= (size_t)t->dims[i];
  return n;
}

static inline int ep_same_shape(const ep_tensor *a, const ep_tensor *b) {
  if (a->rank != b->rank) return 0;
  for (int32_t i = 0; i < a->rank; i++)
    if (a->dims[i] != b->dims[i]) return 0;
  return 1;
}

/* ---- builtin options: read a field by its schema slot (0-based field id), default when absent ---- */
int8_t ep_opt_i8(const ep_node *node, int slot, int8_t def);  /* byte enums: activation, padding, type */
uint8_t ep_opt_u8(const ep_node *node, int slot, uint8_t def);
int ep_opt_bool(const ep_node *node, int slot, int def);
int16_t ep_opt_i16(const ep_node *node, int slot, int16_t def);
int32_t ep_opt_i32(const ep_node *node, int slot, int32_t def);
uint32_t ep_opt_u32(const ep_node *node, int slot, uint32_t def);
int64_t ep_opt_i64(const ep_node *node, int slot, int64_t def);
float ep_opt_f32(const ep_node *node, int slot, float def);
/* Vectors in place: NULL with *count = 0 when absent. */
const int32_t *ep_opt_vec_i32(const ep_node *node, int slot, int32_t *count);
const int64_t *ep_opt_vec_i64(const ep_node *node, int slot, int32_t *count);
const float *ep_opt_vec_f32(const ep_node *node, int slot, int32_t *count);

/* ActivationFunctionType of the schema, and the clamp range a fused activation implies for float32. */
enum ep_activation { EP_ACT_NONE = 0, EP_ACT_RELU = 1, EP_ACT_RELU_N1_TO_1 = 2, EP_ACT_RELU6 = 3,
                     EP_ACT_TANH = 4, EP_ACT_SIGN_BIT = 5 };
/* Padding enum of the schema. */
enum ep_padding { EP_PADDING_SAME = 0, EP_PADDING_VALID = 1 };

/* Fails (EP_ERROR_UNSUPPORTED) for TANH/SIGN_BIT/unknown, which are not clamps. */
ep_status ep_activation_range_f32(ep_context *ctx, const ep_node *node, int activation, float *lo, float *hi);

/* ---- memory: persistent (prepare only, lives until the next prepare) and planned scratch ---- */
/* 64-byte aligned, zeroed. NULL on failure (the error is already recorded; return EP_ERROR_MEMORY). */
void *ep_alloc_persistent(ep_context *ctx, size_t bytes);
/* Prepare only: ask for `bytes` of scratch valid during this node's eval; *slot is 0..EP_MAX_SCRATCH-1. */
ep_status ep_request_scratch(ep_context *ctx, ep_node *node, size_t bytes, int *slot);
/* Eval only: the scratch buffer requested under `slot` (64-byte aligned). */
void *ep_scratch(ep_context *ctx, const ep_node *node, int slot);

/* ---- threads ---- */
int ep_num_threads(const ep_context *ctx);
/* fn(arg, begin, end, thread) over [0, n) in chunks of at least `grain` items; thread is in
 * [0, ep_num_threads) so per-thread scratch can be indexed by it. Returns after every chunk is done. */
typedef void (*ep_range_fn)(void *arg, int64_t begin, int64_t end, int thread);
void ep_parallel_for(ep_context *ctx, int64_t n, int64_t grain, ep_range_fn fn, void *arg);

/* ---- errors ---- */
/* Records "<OP_NAME> (op <index>): <message>" and returns `status`. */
ep_status ep_kernel_fail(ep_context *ctx, const ep_node *node, ep_status status, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
