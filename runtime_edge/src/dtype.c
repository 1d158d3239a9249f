/* Element sizes and names of the schema's tensor types. */
#include "edgepress_rt.h"

typedef struct dtype_info {
  const char *name;
  size_t size; /* 0: no fixed element size (strings, handles, packed sub-byte types) */
} dtype_info;

static const dtype_info DTYPES[] = {
    [EP_FLOAT32] = {"FLOAT32", 4},   [EP_FLOAT16] = {"FLOAT16", 2},     [EP_INT32] = {"INT32", 4},
    [EP_UINT8] = {"UINT8", 1},       [EP_INT64] = {"INT64", 8},         [EP_STRING] = {"STRING", 0},
    [EP_BOOL] = {"BOOL", 1},         [EP_INT16] = {"INT16", 2},         [EP_COMPLEX64] = {"COMPLEX64", 8},
    [EP_INT8] = {"INT8", 1},         [EP_FLOAT64] = {"FLOAT64", 8},     [EP_COMPLEX128] = {"COMPLEX128", 16},
    [EP_UINT64] = {"UINT64", 8},     [EP_RESOURCE] = {"RESOURCE", 0},   [EP_VARIANT] = {"VARIANT", 0},
    [EP_UINT32] = {"UINT32", 4},     [EP_UINT16] = {"UINT16", 2},       [EP_INT4] = {"INT4", 0},
    [EP_BFLOAT16] = {"BFLOAT16", 2},
};

#define DTYPE_COUNT ((int32_t)(sizeof DTYPES / sizeof DTYPES[0]))

size_t ep_dtype_size(int32_t dtype) { return dtype >= 0 && dtype < DTYPE_COUNT ? DTYPES[dtype].size : 0; }

const char *ep_dtype_name(int32_t dtype) {
  return dtype >= 0 && dtype < DTYPE_COUNT ? DTYPES[dtype].name : "UNKNOWN";
}
