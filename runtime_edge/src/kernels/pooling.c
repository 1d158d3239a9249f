/* AVERAGE_POOL_2D and MAX_POOL_2D on NHWC float32, int8 and int16, with fused activation.
 * Windows are clipped to the image: padded taps are not counted, so an average divides by the number of
 * in-image taps. Quantized pooling keeps the input's scale and zero point (TFLite requires equal ones), so
 * max is a plain max and average is an integer mean rounded half away from zero, as in TFLite. Rows of the
 * output are split across threads; each output pixel accumulates whole channel rows (vectorizable). */
#include <float.h>

#include "../kernel.h"
#include "quant.h"
#include "util.h"
#include "vec.h"
#include "window.h"

/* Pool2DOptions field slots (schema.fbs). */
enum { OPT_PADDING = 0, OPT_STRIDE_W = 1, OPT_STRIDE_H = 2, OPT_FILTER_W = 3, OPT_FILTER_H = 4,
       OPT_ACTIVATION = 5 };

enum { CHUNK = 64 }; /* channels accumulated at once in a stack buffer */

typedef struct pool_params {
  ep_window w;
  int32_t channels;
  int is_max;
  float lo, hi;
  int32_t qlo, qhi;
} pool_params;

typedef struct pool_job {
  const pool_params *p;
  const void *in;
  void *out;
} pool_job;

static ep_status prepare(ep_context *ctx, ep_node *node) {
  ep_status st = ep_check_nhwc_unary(ctx, node);
  if (st != EP_OK) return st;
  ep_tensor *in = ep_input(ctx, node, 0), *out = ep_output(ctx, node, 0);
  pool_params *p = ep_alloc_persistent(ctx, sizeof *p);
  if (!p) return EP_ERROR_MEMORY;
  p->is_max = node->builtin_code == EP_OP_MAX_POOL_2D;
  p->channels = in->dims[3];
  ep_window *w = &p->w;
  w->batch = in->dims[0];
  w->in_h = in->dims[1];
  w->in_w = in->dims[2];
  w->filter_h = ep_opt_i32(node, OPT_FILTER_H, 0);
  w->filter_w = ep_opt_i32(node, OPT_FILTER_W, 0);
  w->stride_h = ep_opt_i32(node, OPT_STRIDE_H, 0);
  w->stride_w = ep_opt_i32(node, OPT_STRIDE_W, 0);
  w->dilation_h = w->dilation_w = 1;
  if (w->filter_h < 1 || w->filter_w < 1 || !ep_window_plan(w, ep_opt_i8(node, OPT_PADDING, EP_PADDING_SAME)))
    return ep_kernel_fail(ctx, node, EP_ERROR_MODEL, "invalid filter size, stride or padding");
  int act = ep_opt_i8(node, OPT_ACTIVATION, EP_ACT_NONE);
  if (in->type == EP_FLOAT32) {
    if ((st = ep_activation_range_f32(ctx, node, act, &p->lo, &p->hi)) != EP_OK) return st;
  } else if (in->type == EP_INT8 || in->type == EP_INT16) {
    if ((st = ep_require_per_tensor_quant(ctx, node, out)) != EP_OK) return st;
    int32_t qmin, qmax;
    ep_quant_limits(in->type, &qmin, &qmax);
    ep_activation_range_quant(act, ep_scale(out), ep_zero_point(out), qmin, qmax, &p->qlo, &p->qhi);
  } else {
    return ep_kernel_fail(ctx, node, EP_ERROR_UNSUPPORTED, "%s input is not supported", ep_dtype_name(in->type));
  }
  node->user_data = p;
  int32_t dims[4] = {w->batch, w->out_h, w->out_w, p->channels};
  return ep_set_shape(ctx, out, 4, dims);
}

/* The in-image part of the window of output pixel (oy, ox): [y0, y1) x [x0, x1). */
static void window_bounds(const ep_window *w, int64_t oy, int64_t ox, int64_t *y0, int64_t *y1, int64_t *x0,
                          int64_t *x1) {
  int64_t oy0 = oy * w->stride_h - w->pad_top, ox0 = ox * w->stride_w - w->pad_left;
  *y0 = oy0 < 0 ? 0 : oy0;
  *x0 = ox0 < 0 ? 0 : ox0;
  *y1 = oy0 + w->filter_h < w->in_h ? oy0 + w->filter_h : w->in_h;
  *x1 = ox0 + w->filter_w < w->in_w ? ox0 + w->filter_w : w->in_w;
}

static void rows_f32(void *arg, int64_t begin, int64_t end, int thread) {
  (void)thread;
  const pool_job *j = arg;
  const pool_params *p = j->p;
  const ep_window *w = &p->w;
  const float *in = j->in;
  int32_t C = p->channels;
  for (int64_t row = begin; row < end; row++) {
    int64_t b = row / w->out_h, oy = row % w->out_h;
    for (int64_t ox = 0; ox < w->out_w; ox++) {
      int64_t y0, y1, x0, x1;
      window_bounds(w, oy, ox, &y0, &y1, &x0, &x1);
      float *out = (float *)j->out + (row * w->out_w + ox) * C;
      float count = (float)((y1 - y0) * (x1 - x0));
      for (int32_t c0 = 0; c0 < C; c0 += CHUNK) {
        int32_t n = C - c0 < CHUNK ? C - c0 : CHUNK;
        float acc[CHUNK];
        ep_vec_fill(acc, p->is_max ? -FLT_MAX : 0.0f, n);
        for (int64_t y = y0; y < y1; y++)
          for (int64_t x = x0; x < x1; x++) {
            const float *px = in + ((b * w->in_h + y) * w->in_w + x) * C + c0;
            if (p->is_max) ep_vec_max(acc, px, n);
            else ep_vec_add(acc, px, n);
          }
        for (int32_t c = 0; c < n; c++) {
          float v = p->is_max ? acc[c] : acc[c] / count;
          out[c0 + c] = v < p->lo ? p->lo : (v > p->hi ? p->hi : v);
        }
      }
    }
  }
}

/* Quantized pooling, generated for int8 and int16. */
#define ROWS_QUANT(name, T, TMIN)                                                                        \
  static void name(void *arg, int64_t begin, int64_t end, int thread) {                                 \
    (void)thread;                                                                                        \
    const pool_job *j = arg;                                                                             \
    const pool_params *p = j->p;                                                                         \
    const ep_window *w = &p->w;                                                                          \
    const T *in = j->in;                                                                                 \
    int32_t C = p->channels;                                                                             \
    for (int64_t row = begin; row < end; row++) {                                                        \
      int64_t b = row / w->out_h, oy = row % w->out_h;                                                   \
      for (int64_t ox = 0; ox < w->out_w; ox++) {                                                        \
        int64_t y0, y1, x0, x1;                                                                          \
        window_bounds(w, oy, ox, &y0, &y1, &x0, &x1);                                                    \
        T *out = (T *)j->out + (row * w->out_w + ox) * C;                                                \
        int32_t count = (int32_t)((y1 - y0) * (x1 - x0));                                                \
        for (int32_t c0 = 0; c0 < C; c0 += CHUNK) {                                                      \
          int32_t n = C - c0 < CHUNK ? C - c0 : CHUNK;                                                   \
          int32_t acc[CHUNK];                                                                            \
          for (int32_t c = 0; c < n; c++) acc[c] = p->is_max ? TMIN : 0;                                 \
          for (int64_t y = y0; y < y1; y++)                                                              \
            for (int64_t x = x0; x < x1; x++) {                                                          \
              const T *px = in + ((b * w->in_h + y) * w->in_w + x) * C + c0;                             \
              if (p->is_max) {                                                                           \
                for (int32_t c = 0; c < n; c++) acc[c] = px[c] > acc[c] ? px[c] : acc[c];                \
              } else {                                                                                   \
                for (int32_t c = 0; c < n; c++) acc[c] += px[c];                                         \
              }                                                                                          \
            }                                                                                            \
          for (int32_t c = 0; c < n; c++) {                                                              \
            int32_t v = acc[c];                                                                          \
            if (!p->is_max && count > 0) v = v > 0 ? (v + count / 2) / count : (v - count / 2) / count;  \
            out[c0 + c] = (T)ep_clamp_i32(v, p->qlo, p->qhi);                                            \
          }                                                                                              \
        }                                                                                                \
      }                                                                                                  \
    }                                                                                                    \
  }

ROWS_QUANT(rows_s8, int8_t, -128)
ROWS_QUANT(rows_s16, int16_t, -32768)

static ep_status eval(ep_context *ctx, ep_node *node) {
  const pool_params *p = node->user_data;
  ep_tensor *in = ep_input(ctx, node, 0);
  pool_job job = {p, in->data, ep_output(ctx, node, 0)->data};
  ep_range_fn fn = in->type == EP_FLOAT32 ? rows_f32 : in->type == EP_INT8 ? rows_s8 : rows_s16;
  ep_parallel_for(ctx, (int64_t)p->w.batch * p->w.out_h, 1, fn, &job);
  return EP_OK;
}

#define K(OP, DT, NAME) {OP, DT, EP_ISA_REF, EP_OPTIONS_Pool2DOptions, NAME, prepare, eval}

const ep_kernel ep_kernels_pooling[] = {
    K(EP_OP_AVERAGE_POOL_2D, EP_FLOAT32, "avgpool2d_f32_ref"), K(EP_OP_AVERAGE_POOL_2D, EP_INT8, "avgpool2d_s8_ref"),
    K(EP_OP_AVERAGE_POOL_2D, EP_INT16, "avgpool2d_s16_ref"),   K(EP_OP_MAX_POOL_2D, EP_FLOAT32, "maxpool2d_f32_ref"),
    K(EP_OP_MAX_POOL_2D, EP_INT8, "maxpool2d_s8_ref"),         K(EP_OP_MAX_POOL_2D, EP_INT16, "maxpool2d_s16_ref"),
    EP_KERNEL_END,
};
