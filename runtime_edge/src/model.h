/* A loaded, verified model: the flatbuffer bytes plus decoded subgraphs, operators, tensor templates and
 * signatures. Everything here has been checked (indices in range, shapes sane, buffer sizes matching), so
 * the interpreter uses it without further checks. */
#ifndef EP_MODEL_H
#define EP_MODEL_H

#include <stdatomic.h>

#include "flatbuffer.h"
#include "kernel.h"
#include "pool.h"

/* Largest byte size of one tensor; fuzzing builds lower it to stay within the fuzzer's memory limit. */
#ifndef EP_MAX_TENSOR_BYTES
#define EP_MAX_TENSOR_BYTES ((size_t)1 << 34)
#endif

typedef struct ep_op_desc {
  int32_t builtin_code;       /* EP_OP_CUSTOM for custom ops */
  int32_t version;
  const char *custom_code;    /* custom ops only */
  int32_t num_inputs, num_outputs;
  const int32_t *inputs, *outputs;
  int32_t options_type;
  uint32_t options_table;     /* 0 when absent */
  const uint8_t *custom_options;
  uint32_t custom_options_size;
} ep_op_desc;

typedef struct ep_subgraph_desc {
  const char *name;
  int32_t num_tensors;
  ep_tensor *tensors;         /* templates: model shape, constant data, quantization */
  int32_t num_inputs, num_outputs;
  const int32_t *inputs, *outputs;
  int32_t num_ops;
  ep_op_desc *ops;
} ep_subgraph_desc;

typedef struct ep_tensor_map {
  const char *name;
  int32_t tensor;
} ep_tensor_map;

typedef struct ep_signature_desc {
  const char *key;
  int32_t subgraph;
  int32_t num_inputs, num_outputs;
  ep_tensor_map *inputs, *outputs;
} ep_signature_desc;

struct ep_model {
  atomic_int refs;
  fb_buf fb;                  /* the flatbuffer (first 2 GiB of the file at most) */
  const uint8_t *file;        /* the whole file, for Buffer.offset data */
  size_t file_size;
  void *owned;                /* our copy of the bytes, or NULL */
  void *mapping;              /* mmap of the file, or NULL */
  size_t mapping_size;
  ep_pool pool;               /* decoded tables, aligned copies of misaligned constants */
  int32_t num_subgraphs;
  ep_subgraph_desc *subgraphs;
  int32_t num_signatures;
  ep_signature_desc *signatures;
};

void ep_model_retain(ep_model *model);

/* Verifies and decodes model->file (already set); on failure the message names the tensor/op/index. */
ep_status ep_model_decode(ep_model *model);

#endif
