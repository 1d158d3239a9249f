/* TRANSPOSE_CONV: inputs (output_shape, OHWI weights, NHWC input, optional bias), fused activation; float32,
 * int8 and int16 activations with int8 weights (16x8).
 * Each output pixel gathers the input pixels whose stride-spaced footprint covers it (the transpose of a
 * convolution's gather), so output rows are independent and split across threads. Weights are re-laid out
 * once as [ky][kx][ic][oc] so that every tap updates a contiguous row of output channels (vectorizable);
 * non-constant float weights are re-laid out into scratch at every run. Padding follows TFLite: computed as
 * for a forward convolution from the output size back to the input. Quantized kernels accumulate
 * (x - input zero point) * w exactly (int32 for int8, int64 for 16x8), add the bias and requantize per output
 * channel as TFLite's reference kernels, so results equal TFLite's. */
#include <string.h>

#include "../kernel.h"
#include "channel_quant.h"
#include "quant.h"
#include "util.h"
#include "vec.h"
#include "window.h"

/* TransposeConvOptions field slots (schema.fbs). */
enum { OPT_PADDING = 0, OPT_STRIDE_W = 1, OPT_STRIDE_H = 2, OPT_ACTIVATION = 3 };

typedef struct tconv_params {
  int32_t batch, in_h, in_w, in_c, out_h, out_w, out_c, kh, kw, sh, sw, pad_top, pad_left;
  float lo, hi;
  const void *wt; /* constant weights as [ky][kx][ic][oc], else NULL */
  int wt_slot;
  int acc_slot;   /* quantized: one accumulator row per thread */
  ep_channel_requant rq;
} tconv_params;

typedef struct tconv_job {
  const tconv_params *p;
  const void *in, *wt, *bias;
  void *out;
  void *acc;
  int bias64;
} tconv_job;

static void relayout(const tconv_params *p, const void *w, void *wt, size_t es) {
  const uint8_t *src = w;
  uint8_t *dst = wt;
  for (int32_t oc = 0; oc < p->out_c; oc++)
    for (int32_t ky = 0; ky < p->kh; ky++)
      for (int32_t kx = 0; kx < p->kw; kx++)
        for (int32_t ic = 0; ic < p->in_c; ic++)
          memcpy(dst + ((((size_t)ky * p->kw + kx) * p->in_c + ic) * p->out_c + oc) * es,
                 src + ((((size_t)oc * p->kh + ky) * p->kw + kx) * p->in_c + ic) * es, es);
}

/* Shapes, padding and the weights' layout, shared by every dtype. */
static ep_status prepare_common(ep_context *ctx, ep_node *node, tconv_params **out_p) {
  ep_status st = ep_check_arity(ctx, node, 3, 4, 1);
  if (st != EP_OK) return st;
  ep_tensor *shape = ep_input(ctx, node, 0), *w = ep_input(ctx, node, 1), *in = ep_input(ctx, node, 2);
  ep_tensor *bias = ep_input(ctx, node, 3);
  if ((st = ep_check_rank(ctx, node, in, 4, "input")) != EP_OK) return st;
  if ((st = ep_check_rank(ctx, node, w, 4, "weights")) != EP_OK) return st;
  if ((st = ep_check_const_index(ctx, node, shape, "output_shape")) != EP_OK) return st;
  if (ep_num_elements(shape) != 4)
    return ep_kernel_fail(ctx, node, EP_ERROR_MODEL, "output_shape '%s' must have 4 entries", shape->name);
  tconv_params *p = ep_alloc_persistent(ctx, sizeof *p);
  if (!p) return EP_ERROR_MEMORY;
  int32_t dims[4];
  for (int i = 0; i < 4; i++) dims[i] = (int32_t)ep_index_at(shape, (size_t)i);
  p->batch = in->dims[0], p->in_h = in->dims[1], p->in_w = in->dims[2], p->in_c = in->dims[3];
  p->out_c = w->dims[0], p->kh = w->dims[1], p->kw = w->dims[2];
  p->out_h = dims[1], p->out_w = dims[2];
  p->sh = ep_opt_i32(node, OPT_STRIDE_H, 1), p->sw = ep_opt_i32(node, OPT_STRIDE_W, 1);
  if (dims[0] != p->batch || dims[3] != p->out_c || w->dims[3] != p->in_c || p->sh < 1 || p->sw < 1)
    return ep_kernel_fail(ctx, node, EP_ERROR_MODEL, "output_shape, weights and input do not agree");
  if (bias && (int64_t)ep_num_elements(bias) != p->out_c)
    return ep_kernel_fail(ctx, node, EP_ERROR_MODEL, "bias '%s' needs %d values", bias->name, p->out_c);
  int padding = ep_opt_i8(node, OPT_PADDING, EP_PADDING_SAME);
  p->pad_top = ep_window_pad(p->sh, 1, p->out_h, p->kh, ep_window_out_size(padding, p->out_h, p->kh, p->sh, 1), NULL);
  p->pad_left = ep_window_pad(p->sw, 1, p->out_w, p->kw, ep_window_out_size(padding, p->out_w, p->kw, p->sw, 1), NULL);
  p->wt_slot = p->acc_slot = -1;
  node->user_data = p;
  *out_p = p;
  return ep_set_shape(ctx, ep_output(ctx, node, 0), 4, dims);
}

/* Runs body with px (the input pixel, TI) and wk (its [ic][oc] weight slice, TW) for every tap (ky, kx) of output
 * pixel (b, oy, ox): input pixel ((oy + pad - ky) / s, ...) when the division is exact and in range. */
#define FOR_EACH_SOURCE(p, b, oy, ox, TI, in, TW, wt, body)                                         \
  for (int32_t ky = 0; ky < (p)->kh; ky++) {                                                        \
    int64_t ty = (oy) + (p)->pad_top - ky;                                                          \
    if (ty < 0 || ty % (p)->sh) continue;                                                           \
    int64_t iy = ty / (p)->sh;                                                                      \
    if (iy >= (p)->in_h) continue;                                                                  \
    for (int32_t kx = 0; kx < (p)->kw; kx++) {                                                      \
      int64_t tx = (int64_t)(ox) + (p)->pad_left - kx;                                              \
      if (tx < 0 || tx % (p)->sw) continue;                                                         \
      int64_t ix = tx / (p)->sw;                                                                    \
      if (ix >= (p)->in_w) continue;                                                                \
      const TI *px = (in) + (((b) * (p)->in_h + iy) * (p)->in_w + ix) * (p)->in_c;                 \
      const TW *wk = (wt) + ((size_t)ky * (p)->kw + kx) * (p)->in_c * (p)->out_c;                  \
      body                                                                                          \
    }                                                                                               \
  }

/* ---- float32 ---- */

static ep_status prepare_f32(ep_context *ctx, ep_node *node, tconv_params *p) {
  ep_tensor *w = ep_input(ctx, node, 1), *bias = ep_input(ctx, node, 3), *out = ep_output(ctx, node, 0);
  ep_status st;
  if ((st = ep_check_type(ctx, node, w, EP_FLOAT32, "weights")) != EP_OK) return st;
  if ((st = ep_check_type(ctx, node, out, EP_FLOAT32, "output")) != EP_OK) return st;
  if (bias && (st = ep_check_type(ctx, node, bias, EP_FLOAT32, "bias")) != EP_OK) return st;
  if ((st = ep_activation_range_f32(ctx, node, ep_opt_i8(node, OPT_ACTIVATION, EP_ACT_NONE), &p->lo, &p->hi)) != EP_OK)
    return st;
  size_t bytes = ep_num_elements(w) * sizeof(float) + 1;
  if (!w->is_constant) return ep_request_scratch(ctx, node, bytes, &p->wt_slot);
  float *wt = ep_alloc_persistent(ctx, bytes);
  if (!wt) return EP_ERROR_MEMORY;
  relayout(p, w->data, wt, sizeof(float));
  p->wt = wt;
  return EP_OK;
}

static void rows_f32(void *arg, int64_t begin, int64_t end, int thread) {
  (void)thread;
  const tconv_job *j = arg;
  const tconv_params *p = j->p;
  const float *in = j->in, *wt = j->wt, *bias = j->bias;
  int32_t C = p->out_c;
  for (int64_t row = begin; row < end; row++) {
    int64_t b = row / p->out_h, oy = row % p->out_h;
    for (int32_t ox = 0; ox < p->out_w; ox++) {
      float *acc = (float *)j->out + (row * p->out_w + ox) * C;
      ep_vec_fill(acc, 0.0f, C);
      FOR_EACH_SOURCE(p, b, oy, ox, float, in, float, wt, {
        for (int32_t ic = 0; ic < p->in_c; ic++) ep_vec_scale_add(acc, px[ic], wk + (size_t)ic * C, C);
      })
      for (int32_t c = 0; c < C; c++) {
        float v = acc[c] + (bias ? bias[c] : 0.0f);
        acc[c] = v < p->lo ? p->lo : (v > p->hi ? p->hi : v);
      }
    }
  }
}

/* ---- int8 and 16x8 ---- */

static ep_status prepare_quant(ep_context *ctx, ep_node *node, tconv_params *p) {
  ep_tensor *w = ep_input(ctx, node, 1), *in = ep_input(ctx, node, 2), *bias = ep_input(ctx, node, 3);
  ep_status st = ep_prepare_channel_requant_of(ctx, node, in, w, ep_output(ctx, node, 0), p->out_c,
                                               ep_opt_i8(node, OPT_ACTIVATION, EP_ACT_NONE), "weights", &p->rq);
  if (st != EP_OK) return st;
  if (!w->is_constant)
    return ep_kernel_fail(ctx, node, EP_ERROR_UNSUPPORTED, "quantized weights '%s' must be a constant", w->name);
  if (in->type == EP_INT8 && bias && (st = ep_check_type(ctx, node, bias, EP_INT32, "bias")) != EP_OK) return st;
  if (in->type == EP_INT16 && (st = ep_check_bias_16x8(ctx, node, bias)) != EP_OK) return st;
  int8_t *wt = ep_alloc_persistent(ctx, ep_num_elements(w) + 1);
  if (!wt) return EP_ERROR_MEMORY;
  relayout(p, w->data, wt, 1);
  p->wt = wt;
  size_t bytes = (size_t)ep_num_threads(ctx) * (size_t)p->out_c * sizeof(int64_t);
  return ep_request_scratch(ctx, node, bytes ? bytes : 1, &p->acc_slot);
}

#define ROWS_QUANT(name, T, ACC, FINISH)                                                         \
  static void name(void *arg, int64_t begin, int64_t end, int thread) {                         \
    const tconv_job *j = arg;                                                                    \
    const tconv_params *p = j->p;                                                                \
    const T *in = j->in;                                                                         \
    const int8_t *wt = j->wt;                                                                    \
    int32_t C = p->out_c, in_off = p->rq.input_offset;                                           \
    ACC *acc = (ACC *)j->acc + (size_t)thread * C;                                               \
    for (int64_t row = begin; row < end; row++) {                                                \
      int64_t b = row / p->out_h, oy = row % p->out_h;                                           \
      for (int32_t ox = 0; ox < p->out_w; ox++) {                                                \
        for (int32_t c = 0; c < C; c++) acc[c] = 0;                                              \
        FOR_EACH_SOURCE(p, b, oy, ox, T, in, int8_t, wt, {                                       \
          for (int32_t ic = 0; ic < p->in_c; ic++) {                                             \
            ACC x = (ACC)px[ic] + in_off;                                                        \
            const int8_t *wc = wk + (size_t)ic * C;                                              \
            for (int32_t c = 0; c < C; c++) acc[c] += x * wc[c];                                 \
          }                                                                                      \
        })                                                                                       \
        T *out = (T *)j->out + (row * p->out_w + ox) * C;                                        \
        for (int32_t c = 0; c < C; c++) out[c] = (T)(FINISH);                                    \
      }                                                                                          \
    }                                                                                            \
  }

static inline int32_t finish_s8(const tconv_job *j, int32_t acc, int32_t c) {
  return ep_requant_s32(&j->p->rq, ep_add_wrap32(acc, j->bias ? ((const int32_t *)j->bias)[c] : 0), c);
}

static inline int32_t finish_s16(const tconv_job *j, int64_t acc, int32_t c) {
  return ep_requant_s64(&j->p->rq, ep_add_wrap64(acc, ep_bias_16x8(j->bias, j->bias64, c)), c);
}

ROWS_QUANT(rows_s8, int8_t, int32_t, finish_s8(j, acc[c], c))
ROWS_QUANT(rows_s16, int16_t, int64_t, finish_s16(j, acc[c], c))

/* ---- registration ---- */

static ep_status prepare(ep_context *ctx, ep_node *node) {
  tconv_params *p = NULL;
  ep_status st = prepare_common(ctx, node, &p);
  if (st != EP_OK) return st;
  int32_t type = ep_input(ctx, node, 2)->type;
  if (type == EP_FLOAT32) return prepare_f32(ctx, node, p);
  if (type == EP_INT8 || type == EP_INT16) return prepare_quant(ctx, node, p);
  return ep_kernel_fail(ctx, node, EP_ERROR_UNSUPPORTED, "%s input is not supported", ep_dtype_name(type));
}

static ep_status eval(ep_context *ctx, ep_node *node) {
  const tconv_params *p = node->user_data;
  ep_tensor *in = ep_input(ctx, node, 2), *bias = ep_input(ctx, node, 3);
  tconv_job job = {p, in->data, p->wt, bias ? bias->data : NULL, ep_output(ctx, node, 0)->data,
                   p->acc_slot >= 0 ? ep_scratch(ctx, node, p->acc_slot) : NULL, bias && bias->type == EP_INT64};
  if (!p->wt) {
    void *wt = ep_scratch(ctx, node, p->wt_slot);
    relayout(p, ep_input(ctx, node, 1)->data, wt, sizeof(float));
    job.wt = wt;
  }
  ep_range_fn fn = in->type == EP_INT8 ? rows_s8 : in->type == EP_INT16 ? rows_s16 : rows_f32;
  ep_parallel_for(ctx, (int64_t)p->batch * p->out_h, 1, fn, &job);
  return EP_OK;
}

const ep_kernel ep_kernels_transpose_conv[] = {
    {EP_OP_TRANSPOSE_CONV, EP_ANY_DTYPE, EP_ISA_REF, EP_OPTIONS_TransposeConvOptions, "transpose_conv_ref", prepare,
     eval},
    EP_KERNEL_END,
};
