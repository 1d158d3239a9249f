/* QUANTIZE and DEQUANTIZE.
 *  - DEQUANTIZE: int8/uint8/int16 -> float32 as scale * (q - zero_point) (per tensor or per axis), and
 *    float16 -> float32 (how float16 weights reach float kernels).
 *  - QUANTIZE: float32 -> int8/uint8/int16 as round(x / scale) + zero_point, clamped; and requantization
 *    between integer types with TFLite's fixed-point multiplier (input scale / output scale). */
#include <math.h>
#include <string.h>

#include "../kernel.h"
#include "half.h"
#include "quant.h"
#include "unary_driver.h"

typedef struct q_params {
  ep_unary_plan plan;
  int32_t in_type, out_type;
  int32_t in_zp, out_zp, qmin, qmax;
  float scale;           /* QUANTIZE from float: the output scale */
  int32_t mult;          /* requantization */
  int shift;
  int32_t axis_count;    /* DEQUANTIZE per axis: number of channels along the axis */
  int64_t axis_inner;    /* elements per channel step */
  const float *scales;
  const int64_t *zero_points;
} q_params;

static void dequantize_f16(const void *pin, void *pout, int64_t n, const void *params) {
  (void)params;
  const uint16_t *in = pin;
  float *out = pout;
  for (int64_t i = 0; i < n; i++) out[i] = ep_half_to_float(in[i]);
}

static int32_t load_int(const void *p, int32_t type, int64_t i) {
  switch (type) {
    case EP_INT8: return ((const int8_t *)p)[i];
    case EP_UINT8: return ((const uint8_t *)p)[i];
    default: return ((const int16_t *)p)[i];
  }
}

static void store_int(void *p, int32_t type, int64_t i, int32_t v) {
  switch (type) {
    case EP_INT8: ((int8_t *)p)[i] = (int8_t)v; break;
    case EP_UINT8: ((uint8_t *)p)[i] = (uint8_t)v; break;
    default: ((int16_t *)p)[i] = (int16_t)v; break;
  }
}

/* Per-tensor rows see the whole tensor in pieces; per-axis dequantization runs unsplit (see eval). */
static void dequantize_int(const void *pin, void *pout, int64_t n, const void *params) {
  const q_params *p = params;
  float *out = pout;
  for (int64_t i = 0; i < n; i++) {
    double scale = p->scale, zp = p->in_zp;
    if (p->axis_count > 1) {
      int64_t c = (i / p->axis_inner) % p->axis_count;
      scale = p->scales[c];
      zp = p->zero_points ? (double)p->zero_points[c] : 0.0;
    }
    /* TFLite computes in double: float(scale * (q - zero_point)). */
    out[i] = (float)(scale * ((double)load_int(pin, p->in_type, i) - zp));
  }
}

static void quantize_float(const void *pin, void *pout, int64_t n, const void *params) {
  const q_params *p = params;
  const float *in = pin;
  for (int64_t i = 0; i < n; i++) {
    float r = roundf(in[i] / p->scale);
    /* Clamp in float first: converting an out-of-range float to int is undefined in C. */
    if (!(r > -2147483648.0f)) r = -2147483648.0f;
    if (r >= 2147483648.0f) r = 2147483520.0f;
    int64_t v = (int64_t)r + p->out_zp;
    store_int(pout, p->out_type, i, (int32_t)(v < p->qmin ? p->qmin : (v > p->qmax ? p->qmax : v)));
  }
}

static void requantize(const void *pin, void *pout, int64_t n, const void *params) {
  const q_params *p = params;
  for (int64_t i = 0; i < n; i++) {
    int32_t v = ep_mul_by_quantized_multiplier(load_int(pin, p->in_type, i) - p->in_zp, p->mult, p->shift);
    store_int(pout, p->out_type, i, ep_clamp_i32(v + p->out_zp, p->qmin, p->qmax));
  }
}

static int is_quant_type(int32_t t) { return t == EP_INT8 || t == EP_UINT8 || t == EP_INT16; }

static ep_status prepare_dequantize(ep_context *ctx, ep_node *node) {
  ep_status st = ep_unary_prepare(ctx, node, EP_FLOAT32);
  if (st != EP_OK) return st;
  ep_tensor *in = ep_input(ctx, node, 0);
  q_params *p = ep_alloc_persistent(ctx, sizeof *p);
  if (!p) return EP_ERROR_MEMORY;
  p->in_type = in->type;
  p->plan = (ep_unary_plan){NULL, p, ep_dtype_size(in->type), sizeof(float)};
  if (in->type == EP_FLOAT16) {
    p->plan.row = dequantize_f16;
  } else if (is_quant_type(in->type)) {
    if (!in->scale || in->quant_count < 1)
      return ep_kernel_fail(ctx, node, EP_ERROR_MODEL, "input '%s' has no quantization parameters", in->name);
    p->scale = in->scale[0];
    p->in_zp = ep_zero_point(in);
    if (in->quant_count > 1) {
      if (in->quant_axis < 0 || in->quant_axis >= in->rank || in->dims[in->quant_axis] != in->quant_count)
        return ep_kernel_fail(ctx, node, EP_ERROR_MODEL, "%d scales do not match axis %d of '%s'",
                              in->quant_count, in->quant_axis, in->name);
      p->axis_count = in->quant_count;
      p->axis_inner = 1;
      for (int32_t k = in->quant_axis + 1; k < in->rank; k++) p->axis_inner *= in->dims[k];
      p->scales = in->scale;
      p->zero_points = in->zero_point;
    }
    p->plan.row = dequantize_int;
  } else {
    return ep_kernel_fail(ctx, node, EP_ERROR_UNSUPPORTED, "%s input is not supported", ep_dtype_name(in->type));
  }
  node->user_data = p;
  return EP_OK;
}

static ep_status prepare_quantize(ep_context *ctx, ep_node *node) {
  ep_tensor *in = ep_input(ctx, node, 0), *out = ep_output(ctx, node, 0);
  if (!in || !out) return ep_kernel_fail(ctx, node, EP_ERROR_MODEL, "needs 1 input and 1 output");
  if (!is_quant_type(out->type))
    return ep_kernel_fail(ctx, node, EP_ERROR_UNSUPPORTED, "%s output is not supported", ep_dtype_name(out->type));
  ep_status st = ep_unary_prepare(ctx, node, out->type);
  if (st != EP_OK) return st;
  if ((st = ep_require_per_tensor_quant(ctx, node, out)) != EP_OK) return st;
  if (out->quant_count > 1)
    return ep_kernel_fail(ctx, node, EP_ERROR_UNSUPPORTED, "per-axis output quantization is not supported");
  q_params *p = ep_alloc_persistent(ctx, sizeof *p);
  if (!p) return EP_ERROR_MEMORY;
  p->in_type = in->type;
  p->out_type = out->type;
  p->out_zp = ep_zero_point(out);
  p->scale = ep_scale(out);
  ep_quant_limits(out->type, &p->qmin, &p->qmax);
  p->plan = (ep_unary_plan){NULL, p, ep_dtype_size(in->type), ep_dtype_size(out->type)};
  if (in->type == EP_FLOAT32) {
    p->plan.row = quantize_float;
  } else if (is_quant_type(in->type)) {
    if ((st = ep_require_per_tensor_quant(ctx, node, in)) != EP_OK) return st;
    p->in_zp = ep_zero_point(in);
    ep_quantize_multiplier((double)ep_scale(in) / (double)ep_scale(out), &p->mult, &p->shift);
    p->plan.row = requantize;
  } else {
    return ep_kernel_fail(ctx, node, EP_ERROR_UNSUPPORTED, "%s input is not supported", ep_dtype_name(in->type));
  }
  node->user_data = p;
  return EP_OK;
}

static ep_status eval(ep_context *ctx, ep_node *node) {
  const q_params *p = node->user_data;
  if (p->axis_count > 1) { /* the channel of element i depends on i's absolute position: one run */
    ep_tensor *out = ep_output(ctx, node, 0);
    p->plan.row(ep_input(ctx, node, 0)->data, out->data, (int64_t)ep_num_elements(out), p);
    return EP_OK;
  }
  ep_unary_run(ctx, node, &p->plan);
  return EP_OK;
}

const ep_kernel ep_kernels_quantize[] = {
    {EP_OP_DEQUANTIZE, EP_ANY_DTYPE, EP_ISA_REF, EP_OPTIONS_NONE, "dequantize_ref", prepare_dequantize, eval},
    {EP_OP_QUANTIZE, EP_ANY_DTYPE, EP_ISA_REF, EP_OPTIONS_NONE, "quantize_ref", prepare_quantize, eval},
    EP_KERNEL_END,
};
