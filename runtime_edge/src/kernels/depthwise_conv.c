/* DEPTHWISE_CONV_2D: NHWC input, 1HW(C*M) filter, optional bias, fused activation; output channel
 * oc = ic * M + m reads input channel ic. Rows of output pixels are split across threads. float with M = 1
 * runs register-blocked channel tiles (dw_tile.h) over spans of output pixels that share their taps (the
 * interior columns as one span); other cases accumulate whole channel rows (contiguous in input, filter and
 * output) per tap, which the compiler vectorizes. int8 follows TFLite's per-channel requantization; int16
 * activations with int8 filters (16x8) accumulate in 64 bits like TFLite's reference kernel. Float input with
 * a constant int8 filter is TFLite's hybrid kernel: each batch item is quantized asymmetrically on the fly
 * (hybrid.h), accumulated like int8 and rescaled by filter scale x input scale. */
#include "../kernel.h"
#include "channel_quant.h"
#include "dw_tile.h"
#include "hybrid.h"
#include "quant.h"
#include "util.h"
#include "vec.h"
#include "window.h"

/* DepthwiseConv2DOptions field slots (schema.fbs). */
enum { OPT_PADDING = 0, OPT_STRIDE_W = 1, OPT_STRIDE_H = 2, OPT_DEPTH_MULTIPLIER = 3, OPT_ACTIVATION = 4,
       OPT_DILATION_W = 5, OPT_DILATION_H = 6 };
static const ep_conv_slots SLOTS = {OPT_PADDING, OPT_STRIDE_W, OPT_STRIDE_H, OPT_DILATION_W, OPT_DILATION_H};

typedef struct dw_params {
  ep_window w;
  int32_t in_c, out_c, mult;
  float lo, hi;
  int acc_slot; /* int8 and hybrid: per-thread int32 accumulator rows */
  ep_channel_requant rq;
  int hybrid, rows_slot; /* hybrid: quantized input rows */
  float *weight_scale;   /* hybrid: per output channel */
} dw_params;

typedef struct dw_job {
  const dw_params *p;
  const void *in, *filter, *bias;
  void *out;
  void *acc;
  int bias64;
  ep_hybrid_rows rows; /* hybrid: per batch item scales and zero points */
} dw_job;

static ep_status prepare_common(ep_context *ctx, ep_node *node, dw_params **out_p) {
  ep_status st = ep_check_conv_operands(ctx, node);
  if (st != EP_OK) return st;
  ep_tensor *in = ep_input(ctx, node, 0), *filter = ep_input(ctx, node, 1), *bias = ep_input(ctx, node, 2);
  ep_tensor *out = ep_output(ctx, node, 0);
  dw_params *p = ep_alloc_persistent(ctx, sizeof *p);
  if (!p) return EP_ERROR_MEMORY;
  p->in_c = in->dims[3];
  p->out_c = filter->dims[3];
  if (filter->dims[0] != 1 || p->in_c <= 0 || p->out_c % p->in_c != 0)
    return ep_kernel_fail(ctx, node, EP_ERROR_MODEL, "filter '%s' [%d,%d,%d,%d] does not fit %d input channels",
                          filter->name, filter->dims[0], filter->dims[1], filter->dims[2], filter->dims[3], p->in_c);
  p->mult = p->out_c / p->in_c;
  if ((st = ep_check_channel_count(ctx, node, bias, p->out_c)) != EP_OK) return st;
  ep_window *w = &p->w;
  if ((st = ep_conv_window(ctx, node, in, filter, SLOTS, w)) != EP_OK) return st;
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

/* Values per batch item of the input (the length of a hybrid kernel's quantized row). */
static int64_t item_len(const dw_params *p, const ep_tensor *in) {
  return (int64_t)(ep_num_elements(in) / (size_t)(p->w.batch > 0 ? p->w.batch : 1));
}

/* Scratch for one int32 accumulator row per thread. */
static ep_status request_acc(ep_context *ctx, ep_node *node, dw_params *p) {
  size_t bytes = (size_t)ep_num_threads(ctx) * (size_t)p->out_c * sizeof(int32_t);
  return ep_request_scratch(ctx, node, bytes ? bytes : 1, &p->acc_slot);
}

/* ---- float32 ---- */

static ep_status prepare_hybrid(ep_context *ctx, ep_node *node, dw_params *p);

static ep_status prepare_f32(ep_context *ctx, ep_node *node) {
  dw_params *p;
  ep_status st = prepare_common(ctx, node, &p);
  if (st != EP_OK) return st;
  ep_tensor *filter = ep_input(ctx, node, 1), *bias = ep_input(ctx, node, 2);
  if (filter->type == EP_INT8) return prepare_hybrid(ctx, node, p);
  if ((st = ep_check_type(ctx, node, filter, EP_FLOAT32, "filter")) != EP_OK) return st;
  return ep_check_float_epilogue(ctx, node, bias, ep_opt_i8(node, OPT_ACTIVATION, EP_ACT_NONE), &p->lo, &p->hi);
}

enum { MAX_TAPS = 64 }; /* taps gathered per output pixel by the channel-blocked path */

/* Depth multiplier > 1 or very large filters: accumulate whole channel rows in the output. */
static void pixel_generic_f32(const dw_job *j, int64_t b, int64_t oy, int32_t ox, float *acc) {
  const dw_params *p = j->p;
  const ep_window *w = &p->w;
  const float *in = j->in, *filter = j->filter, *bias = j->bias;
  int32_t C = p->out_c, M = p->mult;
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
  ep_vec_clamp(acc, p->lo, p->hi, C);
}

/* Multiplier 1: output pixels [ox0, ox1) of row (b, oy), whose taps all lie in the image or are all cut at the
 * same kernel positions (only true for interior columns when ox1 - ox0 > 1). The taps of the first pixel are
 * gathered once, then register-blocked channel tiles run over the whole span. */
static void span_f32(const dw_job *j, int64_t b, int64_t oy, int32_t ox0, int32_t ox1, float *out_row) {
  const dw_params *p = j->p;
  const ep_window *w = &p->w;
  const float *in = j->in, *filter = j->filter, *bias = j->bias;
  int32_t C = p->out_c;
  const float *x[MAX_TAPS], *f[MAX_TAPS];
  int n = 0;
  FOR_EACH_TAP(w, b, oy, ox0, {
    x[n] = in + pix * C;
    f[n++] = filter + tap * C;
  })
  ep_dw_run r = {n, x, f, (int64_t)w->stride_w * C, bias, p->lo, p->hi};
  int32_t npix = ox1 - ox0, c = 0;
  float *out = out_row + (int64_t)ox0 * C;
  for (; c + 8 <= C; c += 8) ep_dw_tile8_f32(&r, npix, c, out, C);
  for (; c + 4 <= C; c += 4) ep_dw_tile4_f32(&r, npix, c, out, C);
  for (; c < C; c++)
    for (int32_t px = 0; px < npix; px++) {
      float v = 0.0f;
      for (int t = 0; t < n; t++) v += x[t][px * r.step + c] * f[t][c];
      v += bias ? bias[c] : 0.0f;
      out[(int64_t)px * C + c] = v < p->lo ? p->lo : (v > p->hi ? p->hi : v);
    }
}

/* Output columns [*lo, *hi) whose horizontal taps all lie inside the image. */
static void interior_columns(const ep_window *w, int32_t *lo, int32_t *hi) {
  int64_t first = (w->pad_left + w->stride_w - 1) / w->stride_w;
  int64_t reach = (int64_t)w->in_w - 1 + w->pad_left - (int64_t)(w->filter_w - 1) * w->dilation_w;
  int64_t last = reach < 0 ? -1 : reach / w->stride_w;
  *lo = (int32_t)(first < w->out_w ? first : w->out_w);
  *hi = (int32_t)(last + 1 > *lo ? (last + 1 < w->out_w ? last + 1 : w->out_w) : *lo);
}

static void rows_f32(void *arg, int64_t begin, int64_t end, int thread) {
  (void)thread;
  const dw_job *j = arg;
  const dw_params *p = j->p;
  const ep_window *w = &p->w;
  int blocked = p->mult == 1 && (int64_t)w->filter_h * w->filter_w <= MAX_TAPS;
  int32_t lo, hi;
  interior_columns(w, &lo, &hi);
  for (int64_t row = begin; row < end; row++) {
    int64_t b = row / w->out_h, oy = row % w->out_h;
    float *out = (float *)j->out + row * w->out_w * p->out_c;
    if (!blocked) {
      for (int32_t ox = 0; ox < w->out_w; ox++) pixel_generic_f32(j, b, oy, ox, out + (int64_t)ox * p->out_c);
      continue;
    }
    for (int32_t ox = 0; ox < lo; ox++) span_f32(j, b, oy, ox, ox + 1, out);
    if (hi > lo) span_f32(j, b, oy, lo, hi, out);
    for (int32_t ox = hi; ox < w->out_w; ox++) span_f32(j, b, oy, ox, ox + 1, out);
  }
}

/* ---- quantized ---- */

static ep_status prepare_quant(ep_context *ctx, ep_node *node, dw_params **out_p) {
  dw_params *p;
  ep_status st = prepare_common(ctx, node, &p);
  if (st != EP_OK) return st;
  st = ep_prepare_channel_requant(ctx, node, p->out_c, ep_opt_i8(node, OPT_ACTIVATION, EP_ACT_NONE), "filter",
                                  &p->rq);
  if (st != EP_OK) return st;
  *out_p = p;
  return EP_OK;
}

static ep_status prepare_s8(ep_context *ctx, ep_node *node) {
  dw_params *p;
  ep_status st = prepare_quant(ctx, node, &p);
  if (st != EP_OK) return st;
  ep_tensor *bias = ep_input(ctx, node, 2);
  if (bias && (st = ep_check_type(ctx, node, bias, EP_INT32, "bias")) != EP_OK) return st;
  return request_acc(ctx, node, p);
}

/* acc[c] = sum over the in-image taps of output pixel (b, oy, ox) of (x + in_off) * w, for int8 x and w. */
static void accumulate_s8(const dw_job *j, int64_t b, int64_t oy, int32_t ox, int32_t in_off, int32_t *acc) {
  const dw_params *p = j->p;
  const ep_window *w = &p->w;
  const int8_t *in = j->in, *filter = j->filter;
  int32_t C = p->out_c, M = p->mult;
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
}

static void rows_s8(void *arg, int64_t begin, int64_t end, int thread) {
  const dw_job *j = arg;
  const dw_params *p = j->p;
  const ep_window *w = &p->w;
  const int32_t *bias = j->bias;
  int32_t C = p->out_c;
  int32_t *acc = (int32_t *)j->acc + (size_t)thread * C;
  for (int64_t row = begin; row < end; row++) {
    int64_t b = row / w->out_h, oy = row % w->out_h;
    for (int32_t ox = 0; ox < w->out_w; ox++) {
      accumulate_s8(j, b, oy, ox, p->rq.input_offset, acc);
      int8_t *out = (int8_t *)j->out + (row * w->out_w + ox) * C;
      for (int32_t c = 0; c < C; c++) {
        out[c] = (int8_t)ep_requant_s32(&p->rq, ep_add_wrap32(acc[c], bias ? bias[c] : 0), c);
      }
    }
  }
}

static ep_status prepare_s16(ep_context *ctx, ep_node *node) {
  dw_params *p;
  ep_status st = prepare_quant(ctx, node, &p);
  if (st != EP_OK) return st;
  return ep_check_bias_16x8(ctx, node, ep_input(ctx, node, 2));
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
        acc = ep_add_wrap64(acc, ep_bias_16x8(j->bias, j->bias64, c));
        out[c] = (int16_t)ep_requant_s64(&p->rq, acc, c);
      }
    }
  }
}

/* ---- hybrid: float input, int8 filter ---- */

static ep_status prepare_hybrid(ep_context *ctx, ep_node *node, dw_params *p) {
  ep_tensor *in = ep_input(ctx, node, 0), *filter = ep_input(ctx, node, 1), *bias = ep_input(ctx, node, 2);
  ep_status st = ep_hybrid_weight_scales(ctx, node, filter, p->out_c, &p->weight_scale, NULL);
  if (st != EP_OK) return st;
  p->hybrid = 1;
  st = ep_check_float_epilogue(ctx, node, bias, ep_opt_i8(node, OPT_ACTIVATION, EP_ACT_NONE), &p->lo, &p->hi);
  if (st != EP_OK) return st;
  size_t rows_bytes = ep_hybrid_rows_bytes(p->w.batch, item_len(p, in)) + 1;
  if ((st = ep_request_scratch(ctx, node, rows_bytes, &p->rows_slot)) != EP_OK) return st;
  return request_acc(ctx, node, p);
}

static void rows_hybrid(void *arg, int64_t begin, int64_t end, int thread) {
  const dw_job *j = arg;
  const dw_params *p = j->p;
  const ep_window *w = &p->w;
  const float *bias = j->bias;
  int32_t C = p->out_c;
  int32_t *acc = (int32_t *)j->acc + (size_t)thread * C;
  for (int64_t row = begin; row < end; row++) {
    int64_t b = row / w->out_h, oy = row % w->out_h;
    float sf = j->rows.scale[b];
    for (int32_t ox = 0; ox < w->out_w; ox++) {
      accumulate_s8(j, b, oy, ox, -j->rows.zero_point[b], acc);
      float *out = (float *)j->out + (row * w->out_w + ox) * C;
      for (int32_t c = 0; c < C; c++) {
        float v = (float)acc[c] * (p->weight_scale[c] * sf); /* TFLite's order: per-channel x input scale first */
        if (bias) v += bias[c];
        out[c] = v < p->lo ? p->lo : (v > p->hi ? p->hi : v);
      }
    }
  }
}

static ep_status eval_with(ep_context *ctx, ep_node *node, ep_range_fn rows) {
  const dw_params *p = node->user_data;
  ep_tensor *in = ep_input(ctx, node, 0), *bias = ep_input(ctx, node, 2);
  dw_job job = {p, in->data, ep_input(ctx, node, 1)->data, bias ? bias->data : NULL,
                ep_output(ctx, node, 0)->data, p->acc_slot >= 0 ? ep_scratch(ctx, node, p->acc_slot) : NULL,
                bias && bias->type == EP_INT64, {NULL, NULL, NULL}};
  if (p->hybrid) {
    job.rows = ep_hybrid_rows_at(ep_scratch(ctx, node, p->rows_slot), p->w.batch, item_len(p, in));
    ep_hybrid_quantize(ctx, in->data, p->w.batch, item_len(p, in), 1, &job.rows);
    job.in = job.rows.q;
  }
  ep_parallel_for(ctx, (int64_t)p->w.batch * p->w.out_h, 1, rows, &job);
  return EP_OK;
}

static ep_status eval_f32(ep_context *ctx, ep_node *node) {
  const dw_params *p = node->user_data;
  return eval_with(ctx, node, p->hybrid ? rows_hybrid : rows_f32);
}
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
