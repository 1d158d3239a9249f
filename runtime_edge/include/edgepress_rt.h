/* edgepress runtime_edge: a small C11 interpreter for .tflite models. This is the one public header.
 *
 * Life cycle:  ep_model_load_file / ep_model_load_memory  ->  ep_interpreter_create
 *              -> [ep_interpreter_resize_input ...] -> ep_interpreter_allocate -> write inputs
 *              -> ep_interpreter_invoke -> read outputs  (resize again => allocate again).
 *
 * Memory rules:
 *  - A model is verified completely when it is loaded: every offset, vector, string, union tag, index, dtype,
 *    shape and buffer size is checked, so a hostile file yields a status, never a crash.
 *  - Weights are used in place. ep_model_load_file maps the file read-only. ep_model_load_memory uses the
 *    caller's bytes in place when `flags` has EP_LOAD_BORROW and they are 16-byte aligned (the caller keeps
 *    them alive and unchanged until the model's last reference is released); otherwise it copies them once.
 *    A constant whose data is not aligned to its element size is copied once at load.
 *  - A model is reference counted: an interpreter holds a reference, so ep_model_release may be called right
 *    after ep_interpreter_create.
 *  - ep_interpreter_allocate prepares every op (shapes, kernel state), evaluates ops whose inputs are all
 *    constant once (e.g. DEQUANTIZE of float16 weights), plans one arena for all other tensors and allocates
 *    everything a run needs; ep_interpreter_invoke allocates nothing. Allocating again without a resize
 *    in between changes nothing (input data is kept).
 *  - An interpreter is not thread safe; distinct interpreters may run concurrently (they may share a model).
 *
 * Errors: every function that can fail returns an ep_status; the message of the most recent failure on the
 * calling thread is ep_last_error(). Handles are opaque. All names start with ep_ / EP_. */
#ifndef EDGEPRESS_RT_H
#define EDGEPRESS_RT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32)
#define EP_API __declspec(dllexport)
#else
#define EP_API __attribute__((visibility("default")))
#endif

typedef enum ep_status {
  EP_OK = 0,
  EP_ERROR_ARGUMENT = 1,    /* bad argument from the caller: null handle, index out of range, bad shape */
  EP_ERROR_MODEL = 2,       /* the model is malformed, truncated or inconsistent */
  EP_ERROR_UNSUPPORTED = 3, /* valid model using an op, dtype or feature this runtime does not implement */
  EP_ERROR_MEMORY = 4,      /* allocation failed or a size overflows */
  EP_ERROR_STATE = 5,       /* call out of order, e.g. invoke before allocate */
  EP_ERROR_IO = 6,          /* the model file cannot be opened or mapped */
  EP_ERROR_KERNEL = 7       /* a kernel rejected its inputs at run time */
} ep_status;

/* TensorType values of the TFLite schema. */
typedef enum ep_dtype {
  EP_FLOAT32 = 0, EP_FLOAT16 = 1, EP_INT32 = 2, EP_UINT8 = 3, EP_INT64 = 4, EP_STRING = 5, EP_BOOL = 6,
  EP_INT16 = 7, EP_COMPLEX64 = 8, EP_INT8 = 9, EP_FLOAT64 = 10, EP_COMPLEX128 = 11, EP_UINT64 = 12,
  EP_RESOURCE = 13, EP_VARIANT = 14, EP_UINT32 = 15, EP_UINT16 = 16, EP_INT4 = 17, EP_BFLOAT16 = 18
} ep_dtype;

#define EP_MAX_RANK 8
#define EP_LOAD_BORROW 1u

typedef struct ep_model ep_model;
typedef struct ep_interpreter ep_interpreter;

/* Read-only description of one tensor; pointers stay valid until the next allocate/resize or destroy. */
typedef struct ep_tensor_info {
  const char *name;
  int32_t dtype;                    /* ep_dtype */
  int32_t rank;
  int32_t dims[EP_MAX_RANK];        /* current shape (after resize / shape propagation) */
  int32_t signature_rank;           /* shape_signature (-1 = dynamic dim); equals dims when absent */
  int32_t signature[EP_MAX_RANK];
  void *data;                       /* NULL before allocate for non-constant tensors */
  size_t bytes;
  int32_t is_constant;
  int32_t is_variable;
  int32_t quant_count;              /* number of scales (0 = not quantized) */
  int32_t quant_axis;               /* quantized_dimension */
  const float *quant_scales;        /* quant_count values */
  const int64_t *quant_zero_points; /* quant_count values, or NULL when the model stores none */
  int32_t is_sparse;
} ep_tensor_info;

/* Sparsity parameters of a sparse constant: traversal order, block map and per-dimension metadata. */
typedef struct ep_sparsity_dim {
  int32_t format;        /* 0 = DENSE, 1 = SPARSE_CSR */
  int32_t dense_size;
  int32_t segments_dtype; /* SPARSE_CSR dims: ep_dtype of segments and of indices, each one of */
  int32_t indices_dtype;  /* EP_INT32, EP_UINT16, EP_UINT8 */
  int32_t segments_count;
  int32_t indices_count;
  const void *segments;
  const void *indices;
} ep_sparsity_dim;

typedef struct ep_options {
  int32_t num_threads;   /* <= 0: 1 thread */
  int32_t profile;       /* nonzero: record per-op wall time at every invoke */
  int32_t preserve_all;  /* nonzero: no arena sharing, every intermediate stays readable after invoke */
} ep_options;

EP_API const char *ep_version(void);
EP_API const char *ep_last_error(void);
EP_API const char *ep_status_name(ep_status status);
EP_API const char *ep_dtype_name(int32_t dtype);
EP_API size_t ep_dtype_size(int32_t dtype); /* bytes per element; 0 for STRING/RESOURCE/VARIANT/INT4 */

EP_API ep_status ep_model_load_file(const char *path, ep_model **out);
EP_API ep_status ep_model_load_memory(const void *data, size_t size, uint32_t flags, ep_model **out);
EP_API void ep_model_release(ep_model *model);

EP_API ep_status ep_interpreter_create(ep_model *model, const ep_options *options, ep_interpreter **out);
EP_API void ep_interpreter_destroy(ep_interpreter *interp);
EP_API ep_status ep_interpreter_resize_input(ep_interpreter *interp, int32_t tensor, int32_t rank,
                                             const int32_t *dims);
EP_API ep_status ep_interpreter_allocate(ep_interpreter *interp);
EP_API ep_status ep_interpreter_invoke(ep_interpreter *interp);

/* Tensors of the main subgraph (subgraph 0), numbered as in the model. */
EP_API int32_t ep_interpreter_tensor_count(const ep_interpreter *interp);
EP_API ep_status ep_interpreter_tensor(const ep_interpreter *interp, int32_t tensor, ep_tensor_info *out);
EP_API int32_t ep_interpreter_input_count(const ep_interpreter *interp);
EP_API int32_t ep_interpreter_input(const ep_interpreter *interp, int32_t i); /* tensor index, -1 if none */
EP_API int32_t ep_interpreter_output_count(const ep_interpreter *interp);
EP_API int32_t ep_interpreter_output(const ep_interpreter *interp, int32_t i);
EP_API ep_status ep_interpreter_sparsity(const ep_interpreter *interp, int32_t tensor, int32_t *rank,
                                         const int32_t **traversal_order, int32_t *block_map_count,
                                         const int32_t **block_map);
EP_API ep_status ep_interpreter_sparsity_dim(const ep_interpreter *interp, int32_t tensor, int32_t dim,
                                             ep_sparsity_dim *out);

/* Signatures: key, subgraph, named inputs/outputs mapped to tensor indices. */
EP_API int32_t ep_interpreter_signature_count(const ep_interpreter *interp);
EP_API ep_status ep_interpreter_signature(const ep_interpreter *interp, int32_t sig, const char **key,
                                          int32_t *subgraph, int32_t *input_count, int32_t *output_count);
EP_API ep_status ep_interpreter_signature_io(const ep_interpreter *interp, int32_t sig, int32_t is_output,
                                             int32_t i, const char **name, int32_t *tensor);

/* Memory of the last allocate: the arena, the sum of all planned buffers without sharing (for comparison),
 * and persistent bytes (kernel state and the outputs of ops folded at allocate, e.g. dequantized weights). */
EP_API ep_status ep_interpreter_arena(const ep_interpreter *interp, size_t *arena_bytes, size_t *naive_bytes,
                                      size_t *persistent_bytes);

/* Operators of the main subgraph and, with ep_options.profile, the wall time of each at the last invoke. */
EP_API int32_t ep_interpreter_op_count(const ep_interpreter *interp);
EP_API ep_status ep_interpreter_op(const ep_interpreter *interp, int32_t op, int32_t *builtin_code,
                                   const char **name, uint64_t *last_ns);
/* Tensor index of the op's first output, -1 if none (names the op in profiles). */
EP_API int32_t ep_interpreter_op_output(const ep_interpreter *interp, int32_t op);

#ifdef __cplusplus
}
#endif

#endif
