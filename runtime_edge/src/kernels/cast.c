/* CAST between float32, float16 (as source), int8, uint8, int16, int32, int64 and bool, with C conversion
 * semantics like TFLite's static_cast: float -> integer truncates toward zero, anything -> bool is x != 0.
 * Values pass through int64 or double depending on whether the source is an integer or a float type, so
 * every integer converts exactly. */
#include <string.h>

#include "../kernel.h"
#include "half.h"
#include "util.h"

typedef struct cast_params {
  int32_t in_type, out_type;
} cast_params;

static int is_float(int32_t t) { return t == EP_FLOAT32 || t == EP_FLOAT16; }

static double load_float(const void *p, int32_t t, int64_t i) {
  return t == EP_FLOAT32 ? ((const float *)p)[i] : ep_half_to_float(((const uint16_t *)p)[i]);
}

static int64_t load_int(const void *p, int32_t t, int64_t i) {
  switch (t) {
    case EP_INT8: return ((const int8_t *)p)[i];
    case EP_UINT8: return ((const uint8_t *)p)[i];
    case EP_BOOL: return ((const uint8_t *)p)[i] != 0;
    case EP_INT16: return ((const int16_t *)p)[i];
    case EP_INT32: return ((const int32_t *)p)[i];
    default: return ((const int64_t *)p)[i];
  }
}

/* Float -> integer: truncation; out-of-range values saturate rather than invoke undefined behaviour. */
static int64_t trunc_to_int(double v) {
  if (v != v) return 0;
  if (v >= 9.2233720368547758e18) return INT64_MAX;
  if (v <= -9.2233720368547758e18) return INT64_MIN;
  return (int64_t)v;
}

static void store(void *p, int32_t t, int64_t i, int64_t iv, double fv, int from_float) {
  switch (t) {
    case EP_FLOAT32: ((float *)p)[i] = from_float ? (float)fv : (float)iv; break;
    case EP_BOOL: ((uint8_t *)p)[i] = from_float ? fv != 0.0 : iv != 0; break;
    case EP_INT8: ((int8_t *)p)[i] = (int8_t)(from_float ? trunc_to_int(fv) : iv); break;
    case EP_UINT8: ((uint8_t *)p)[i] = (uint8_t)(from_float ? trunc_to_int(fv) : iv); break;
    case EP_INT16: ((int16_t *)p)[i] = (int16_t)(from_float ? trunc_to_int(fv) : iv); break;
    case EP_INT32: ((int32_t *)p)[i] = (int32_t)(from_float ? trunc_to_int(fv) : iv); break;
    default: ((int64_t *)p)[i] = from_float ? trunc_to_int(fv) : iv; break;
  }
}

static int supported(int32_t t, int as_output) {
  return t == EP_FLOAT32 || (t == EP_FLOAT16 && !as_output) || t == EP_INT8 || t == EP_UINT8 || t == EP_INT16 ||
         t == EP_INT32 || t == EP_INT64 || t == EP_BOOL;
}

static ep_status prepare(ep_context *ctx, ep_node *node) {
  ep_status st = ep_check_arity(ctx, node, 1, 1, 1);
  if (st != EP_OK) return st;
  ep_tensor *in = ep_input(ctx, node, 0), *out = ep_output(ctx, node, 0);
  if (!supported(in->type, 0) || !supported(out->type, 1))
    return ep_kernel_fail(ctx, node, EP_ERROR_UNSUPPORTED, "cast from %s to %s is not supported",
                          ep_dtype_name(in->type), ep_dtype_name(out->type));
  cast_params *p = ep_alloc_persistent(ctx, sizeof *p);
  if (!p) return EP_ERROR_MEMORY;
  p->in_type = in->type;
  p->out_type = out->type;
  node->user_data = p;
  return ep_copy_shape(ctx, out, in);
}

static ep_status eval(ep_context *ctx, ep_node *node) {
  const cast_params *p = node->user_data;
  ep_tensor *in = ep_input(ctx, node, 0), *out = ep_output(ctx, node, 0);
  int64_t n = (int64_t)ep_num_elements(out);
  int from_float = is_float(p->in_type);
  for (int64_t i = 0; i < n; i++) {
    if (from_float) store(out->data, p->out_type, i, 0, load_float(in->data, p->in_type, i), 1);
    else store(out->data, p->out_type, i, load_int(in->data, p->in_type, i), 0.0, 0);
  }
  return EP_OK;
}

const ep_kernel ep_kernels_cast[] = {
    {EP_OP_CAST, EP_ANY_DTYPE, EP_ISA_REF, EP_OPTIONS_NONE, "cast_any_ref", prepare, eval},
    EP_KERNEL_END,
};
