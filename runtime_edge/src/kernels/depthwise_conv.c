/* DEPTHWISE_CONV_2D: NHWC input, 1HW(C*M) filter, optional bias, fused activation; output channel
 * oc = ic * M + m reads input channel ic. For every output pixel the taps are accumulated across the whole
 * channel row at once (contiguous in input, filter and output), which the compiler vectorizes; rows of
 * output pixels are split across threads. int8 follows TFLite's per-channel requantization; int16
 * activations with int8 filters (16x8) accumulate in 64 bits like TFLite's reference kernel. */
#include "../kernel.h"
#include "quant.h"
#include "util.h"
#include "vec.h"
#include "window.h"

/* DepthwiseConv2DOptions field slots (schema.fbs). */
enum { OPT_PADDING = 0, OPT_STRIDE_W = 1, OPT_STRIDE_H = 2, OPT_DEPTH_MULTIPLIER = 3, OPT_ACTIVATION = 4,
       OPT_DILATION_W = 5, OPT_DILATION_H = 6 };

typedef struct dw_params {
  ep_window w;
  int32_t in_c, out_c, mult;
  float lo, hi;
  int acc_slot; /* int8: per-thread int32 accumulator rows */
  int32_t input_offset, output_offset, qlo, qhi;
  int32_t *multiplier, *shift;
} dw_params;

typedef struct dw_job {
  const dw_params *p;
  const void *in, *filter, *bias;
  void *out;
  void *acc;
  int bias64;
} dw_job;

static ep_status prepare_common(ep_context *ctx, ep_node *node, dw_params **out_p) {
  ep_status st = ep_check_arity(ctx, node, 2, 3, 1);
  if (st != EP_OK) return st;
  ep_tensor *in = ep_input(ctx, node, 0), *filter = ep_input(ctx, node, 1), *bias = ep_input(ctx, node, 2);
  ep_tensor *out = ep_output(ctx, node, 0);
  if ((st = ep_check_rank(ctx, node, in, 4, "input")) != EP_OK) return st;
  if ((st = ep_check_rank(ctx, node, filter, 4, "filter")) != EP_OK) return st;
  dw_params *p = ep_alloc_persistent(ctx, sizeof *p);
  if (!p) return EP_ERROR_MEMORY;
  p->in_c = in->dims[3];
  p->out_c = filter->dims[3];
  if (filter->dims[0] != 1 || p->in_c <= 0 || p->out_c % p->in_c != 0)
    return ep_kernel_fail(ctx, node, EP_ERROR_MODEL, "filter '%s' [%d,%d,%d,%d] does not fit %d input channels",
                          filter->name, filter->dims[0], filter->dims[1], filter->dims[2], filter->dims[3], p->in_c);
  p->mult = p->out_c / p->in_c;
  if (bias && (int64_t)ep_num_elements(bias) != p->out_c)
    return ep_kernel_fail(ctx, node, EP_ERROR_MODEL, "bias '%s' has %zu values for %d output channels",
                          bias->name, ep_num_elements(bias), p->out_c);
  ep_window *w = &p->w;
  w->batch = in->dims[0];
  w->in_h = in->dims[1];
  w->in_w = in->dims[2];
  w->filter_h = filter->dims[1];
  w->filter_w = filter->dims[2];
  w->stride_h = ep_opt_i32(node, OPT_STRIDE_H, 1);
  w->stride_w = ep_opt_i32(node, OPT_STRIDE_W, 1);
  w->dilation_h = ep_opt_i32(node, OPT_DILATION_H, 1);
  w->dilation_w = ep_opt_i32(node, OPT_DILATION_W, 1);
  if (!ep_window_plan(w, ep_opt_i8(node, OPT_PADDING, EP_PADDING_SAME)))
    return ep_kernel_fail(ctx, node, EP_ERROR_MODEL, "invalid stride, dilation or padding");
  p->acc_slot = -1;
  node->user_data = p;
  *out_p = p;
  int32_t dims[4] = {w->batch, w->out_h, w->out_w, p->out_c};
  return ep_set_shape(ctx, out, 4, dims);
}

/* Calls body(acc_row_offset, input pixel, filter tap) for every in-image tap of output pixel (b, oy, ox). */
#define FOR_EACH_TAP(w, b, oy, ox, body)                                                      \
  for (int32_t ky = 0; ky < (w)->filter_h; ky++) {                                            \
    int64_t iy = (int64_t)(oy) * (w)->stride_h - (w)->pad_top + (int64_t)ky * (w)->dilation_h; \
    if (iy < 0 || iy >= (w)->in_h) continue;                                                  \
    for (int32_t kx = 0; kx < (w)->filter_w; kx++) {                                          \
      int64_t ix = (int64_t)(ox) * (w)->stride_w - (w)->pad_left + (int64_t)kx * (w)->dilation_w; \
      if (ix < 0 || ix >= (w)->in_w) continue;                                                \
      int64_t pix = (((int64_t)(b) * (w)->in_h + iy) * (w)->in_w + ix);                       \
      int64_t tap = (int64_t)ky * (w)->filter_w + kx;                                         \
      body                                                                                    \
    }                                                                                         \
  }

/* ---- float32 ---- */

static ep_status prepare_f32(ep_context *ctx, ep_node *node) {
  dw_params *p;
  ep_status st = prepare_common(ctx, node, &p);
  if (st != EP_OK) return st;
  ep_tensor *filter = ep_input(ctx, node, 1), *bias = ep_input(ctx, node, 2), *out = ep_output(ctx, node, 0);
  if ((st = ep_check_type(ctx, node, filter, EP_FLOAT32, "filter")) != EP_OK) return st;
  if (bias && (st = ep_check_type(ctx, node, bias, EP_FLOAT32, "bias")) != EP_OK) return st;
  if ((st = ep_check_type(ctx, node, out, EP_FLOAT32, "output")) != EP_OK) return st;
  return ep_activation_range_f32(ctx, node, ep_opt_i8(node, OPT_ACTIVATION, EP_ACT_NONE), &p->lo, &p->hi);
}

static void rows_f32(void *arg, int64_t begin, int64_t end, int thread) {
  (void)thread;
  const dw_job *j = arg;
  const dw_params *p = j->p;
  const ep_window *w = &p->w;
  const float *in = j->in, *filter = j->filter, *bias = j->bias;
  int32_t C = p->out_c, M = p->mult;
  float lo = p->lo, hi = p->hi;
  for (int64_t row = begin; row < end; row++) {
    int64_t b = row / w->out_h, oy = row % w->out_h;
    for (int32_t ox = 0; ox < w->out_w; ox++) {
      float *acc = (float *)j->out + (row * w->out_w + ox) * C;
      if (bias) ep_vec_copy(acc, bias, C);
      else ep_vec_fill(acc, 0.0f, C);
      FOR_EACH_TAP(w, b, oy, ox, {
        const float *px = in + pix * p->in_c;
        const float *f = filter + tap * C;
        if (M == 1) {
          ep_vec_mul_add(acc, px, f, C);
        } else {
          for (int32_t c = 0; c < C; c++) acc[c] += px[c / M] * f[c];
        }
      })
      ep_vec_clamp(acc, lo, hi, C);
    }
  }
}

/* ---- quantized ---- */

static ep_status prepare_quant(ep_context *ctx, ep_node *node, dw_params **out_p) {
  dw_params *p;
  ep_status st = prepare_common(ctx, node, &p);
  if (st != EP_OK) return st;
  ep_tensor *in = ep_input(ctx, node, 0), *filter = ep_input(ctx, node, 1), *out = ep_output(ctx, node, 0);
  if ((st = ep_check_type(ctx, node, filter, EP_INT8, "filter")) != EP_OK) return st;
  if ((st = ep_check_type(ctx, node, out, in->type, "output")) != EP_OK) return st;
  if ((st = ep_require_per_tensor_quant(ctx, node, in)) != EP_OK) return st;
  if ((st = ep_require_per_tensor_quant(ctx, node, out)) != EP_OK) return st;
  if (!filter->scale || (filter->quant_count != 1 && filter->quant_count != p->out_c))
    return ep_kernel_fail(ctx, node, EP_ERROR_MODEL, "filter '%s' needs 1 or %d scales, has %d", filter->name,
                          p->out_c, filter->quant_count);
  p->multiplier = ep_alloc_persistent(ctx, sizeof(int32_t) * (size_t)p->out_c);
  p->shift = ep_alloc_persistent(ctx, sizeof(int32_t) * (size_t)p->out_c);
  if (!p->multiplier || !p->shift) return EP_ERROR_MEMORY;
  for (int32_t c = 0; c < p->out_c; c++) {
    double fs = filter->scale[filter->quant_count > 1 ? c : 0];
    int sh;
    ep_quantize_multiplier((double)ep_scale(in) * fs / (double)ep_scale(out), &p->multiplier[c], &sh);
    p->shift[c] = sh;
  }
  p->input_offset = -ep_zero_point(in);
  p->output_offset = ep_zero_point(out);
  int32_t qmin, qmax;
  ep_quant_limits(out->type, &qmin, &qmax);
  ep_activation_range_quant(ep_opt_i8(node, OPT_ACTIVATION, EP_ACT_NONE), ep_scale(out), p->output_offset, qmin,
                            qmax, &p->qlo, &p->qhi);
  *out_p = p;
  return EP_OK;
}

static ep_status prepare_s8(ep_context *ctx, ep_node *node) {
  dw_params *p;
  ep_status st = prepare_quant(ctx, node, &p);
  if (st != EP_OK) return st;
  ep_tensor *bias = ep_input(ctx, node, 2);
  if (bias && (st = ep_check_type(ctx, node, bias, EP_INT32, "bias")) != EP_OK) return st;
  size_t bytes = (size_t)ep_num_threads(ctx) * (size_t)p->out_c * sizeof(int32_t);
  return ep_request_scratch(ctx, node, bytes ? bytes : 1, &p->acc_slot);
}

static void rows_s8(void *arg, int64_t begin, int64_t end, int thread) {
  const dw_job *j = arg;
  const dw_params *p = j->p;
  const ep_window *w = &p->w;
  const int8_t *in = j->in, *filter = j->filter;
  const int32_t *bias = j->bias;
  int32_t C = p->out_c, M = p->mult, in_off = p->input_offset;
  int32_t *acc = (int32_t *)j->acc + (size_t)thread * C;
  for (int64_t row = begin; row < end; row++) {
    int64_t b = row / w->out_h, oy = row % w->out_h;
    for (int32_t ox = 0; ox < w->out_w; ox++) {
      for (int32_t c = 0; c < C; c++) acc[c] = 0;
      FOR_EACH_TAP(w, b, oy, ox, {
        const int8_t *px = in + pix * p->in_c;
        const int8_t *f = filter + tap * C;
        if (M == 1) {
          ep_vec_mul_add_s8(acc, px, in_off, f, C);
        } else {
          for (int32_t c = 0; c < C; c++) acc[c] += ((int32_t)px[c / M] + in_off) * f[c];
        }
      })
      int8_t *out = (int8_t *)j->out + (row * w->out_w + ox) * C;
      for (int32_t c = 0; c < C; c++) {
        int32_t v = acc[c] + (bias ? bias[c] : 0);
        v = ep_mul_by_quantized_multiplier(v, p->multiplier[c], p->shift[c]) + p->output_offset;
        out[c] = (int8_t)ep_clamp_i32(v, p->qlo, p->qhi);
      }
    }
  }
}

static ep_status prepare_s16(ep_context *ctx, ep_node *node) {
  dw_params *p;
  ep_status st = prepare_quant(ctx, node, &p);
  if (st != EP_OK) return st;
  ep_tensor *bias = ep_input(ctx, node, 2);
  if (bias && bias->type != EP_INT64 && bias->type != EP_INT32)
    return ep_kernel_fail(ctx, node, EP_ERROR_UNSUPPORTED, "16x8 bias '%s' is %s, expected int64 or int32",
                          bias->name, ep_dtype_name(bias->type));
  return EP_OK;
}

static void rows_s16(void *arg, int64_t begin, int64_t end, int thread) {
  (void)thread;
  const dw_job *j = arg;
  const dw_params *p = j->p;
  const ep_window *w = &p->w;
  const int16_t *in = j->in;
  const int8_t *filter = j->filter;
  int32_t C = p->out_c, M = p->mult;
  for (int64_t row = begin; row < end; row++) {
    int64_t b = row / w->out_h, oy = row % w->out_h;
    for (int32_t ox = 0; ox < w->out_w; ox++) {
      int16_t *out = (int16_t *)j->out + (row * w->out_w + ox) * C;
      for (int32_t c = 0; c < C; c++) {
        int64_t acc = 0;
        FOR_EACH_TAP(w, b, oy, ox, { acc += (int64_t)in[pix * p->in_c + c / M] * filter[tap * C + c]; })
        if (j->bias) acc += j->bias64 ? ((const int64_t *)j->bias)[c] : ((const int32_t *)j->bias)[c];
        int32_t v = ep_mul_by_quantized_multiplier64(acc, p->multiplier[c], p->shift[c]) + p->output_offset;
        out[c] = (int16_t)ep_clamp_i32(v, p->qlo, p->qhi);
      }
    }
  }
}

static ep_status eval_with(ep_context *ctx, ep_node *node, ep_range_fn rows) {
  const dw_params *p = node->user_data;
  ep_tensor *bias = ep_input(ctx, node, 2);
  dw_job job = {p, ep_input(ctx, node, 0)->data, ep_input(ctx, node, 1)->data, bias ? bias->data : NULL,
                ep_output(ctx, node, 0)->data, p->acc_slot >= 0 ? ep_scratch(ctx, node, p->acc_slot) : NULL,
                bias && bias->type == EP_INT64};
  ep_parallel_for(ctx, (int64_t)p->w.batch * p->w.out_h, 1, rows, &job);
  return EP_OK;
}

static ep_status eval_f32(ep_context *ctx, ep_node *node) { return eval_with(ctx, node, rows_f32); }
static ep_status eval_s8(ep_context *ctx, ep_node *node) { return eval_with(ctx, node, rows_s8); }
static ep_status eval_s16(ep_context *ctx, ep_node *node) { return eval_with(ctx, node, rows_s16); }

const ep_kernel ep_kernels_depthwise_conv[] = {
    {EP_OP_DEPTHWISE_CONV_2D, EP_FLOAT32, EP_ISA_REF, EP_OPTIONS_DepthwiseConv2DOptions, "dwconv2d_f32_ref",
     prepare_f32, eval_f32},
    {EP_OP_DEPTHWISE_CONV_2D, EP_INT8, EP_ISA_REF, EP_OPTIONS_DepthwiseConv2DOptions, "dwconv2d_s8_ref",
     prepare_s8, eval_s8},
    {EP_OP_DEPTHWISE_CONV_2D, EP_INT16, EP_ISA_REF, EP_OPTIONS_DepthwiseConv2DOptions, "dwconv2d_s16x8_ref",
     prepare_s16, eval_s16},
    EP_KERNEL_END,
};
