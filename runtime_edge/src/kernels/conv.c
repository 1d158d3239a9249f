/* CONV_2D: NHWC input, OHWI filter (I = input channels of one group), optional bias, fused activation.
 *
 * float32 and int8 lower the convolution to GEMM: blocks of MC output pixels are unrolled (im2col) into a
 * per-thread scratch matrix whose rows are (ky, kx, ic) patches — exactly the filter's row layout — and
 * multiplied by the packed filter (gemm.h). A 1x1 stride-1 unpadded convolution uses the input as the
 * matrix directly. Filters that are not constants (e.g. produced by a float16 DEQUANTIZE) are packed into
 * scratch at every run. int16 activations with int8 filters (TFLite's 16x8 mode) use direct loops with
 * 64-bit accumulators like TFLite's reference kernel. Grouped convolutions run one GEMM per group.
 * Float input with a constant int8 filter is TFLite's hybrid convolution: each batch item is quantized on the fly
 * (hybrid.h; asymmetrically when the filter's scales differ per channel or the convolution is grouped, as
 * TFLite's per-channel kernel does, else symmetrically), the int8 GEMM accumulates and the float epilogue
 * rescales by input scale x filter scale. */
#include <string.h>

#include "../kernel.h"
#include "channel_quant.h"
#include "gemm.h"
#include "gemm_weights.h"
#include "hybrid.h"
#include "quant.h"
#include "util.h"
#include "window.h"

/* Conv2DOptions field slots (schema.fbs). */
enum { OPT_PADDING = 0, OPT_STRIDE_W = 1, OPT_STRIDE_H = 2, OPT_ACTIVATION = 3, OPT_DILATION_W = 4,
       OPT_DILATION_H = 5 };
static const ep_conv_slots SLOTS = {OPT_PADDING, OPT_STRIDE_W, OPT_STRIDE_H, OPT_DILATION_W, OPT_DILATION_H};

enum { MC = 64 }; /* output pixels per im2col block */

typedef struct conv_params {
  ep_window w;
  int32_t in_c, out_c, groups, group_in, group_out, k;
  int64_t m;               /* output pixels: batch * out_h * out_w */
  int direct;              /* the input already is the im2col matrix */
  int col_slot;            /* im2col scratch slot (-1 when unused) */
  ep_gemm_weights weights; /* packed filter, all groups */
  float lo, hi;
  ep_channel_requant rq;
  int32_t *weight_sums;
  float *weight_scale;     /* hybrid: per output channel */
  int hybrid, asymmetric;  /* hybrid: input quantization of TFLite's per-channel kernel */
  int rows_slot;           /* hybrid: quantized input rows */
} conv_params;

typedef struct conv_job {
  const conv_params *p;
  const uint8_t *in;
  const void *packed;
  const void *bias;
  void *out;
  uint8_t *cols;
  int32_t group;
  int bias64; /* 16x8: the bias is int64 rather than int32 */
  ep_hybrid_rows rows; /* hybrid: per batch item scales and zero points */
} conv_job;

/* One tap's channels. Few channels (an RGB input layer: 12 bytes) are copied word by word, since a memcpy call
 * per tap would cost more than the copy. */
static void copy_taps(uint8_t *restrict dst, const uint8_t *restrict src, size_t bytes) {
  if (bytes > 32 || bytes % 4 != 0) {
    memcpy(dst, src, bytes);
    return;
  }
  for (size_t i = 0; i < bytes; i += 4) memcpy(dst + i, src + i, 4);
}

/* Rows [m0, m1) of the im2col matrix of group g; out-of-image taps read `pad_byte` (0.0f for float, the
 * input zero point for int8, so that a padded tap contributes nothing after the input offset). */
static void im2col(const conv_params *p, const uint8_t *in, size_t es, int pad_byte, int32_t g, int64_t m0,
                   int64_t m1, uint8_t *cols) {
  const ep_window *w = &p->w;
  size_t chunk = (size_t)p->group_in * es;
  for (int64_t m = m0; m < m1; m++) {
    int64_t ox = m % w->out_w, t = m / w->out_w, oy = t % w->out_h, b = t / w->out_h;
    uint8_t *dst = cols + (size_t)(m - m0) * (size_t)p->k * es;
    for (int32_t ky = 0; ky < w->filter_h; ky++) {
      int64_t iy = oy * w->stride_h - w->pad_top + (int64_t)ky * w->dilation_h;
      for (int32_t kx = 0; kx < w->filter_w; kx++, dst += chunk) {
        int64_t ix = ox * w->stride_w - w->pad_left + (int64_t)kx * w->dilation_w;
        if (iy < 0 || iy >= w->in_h || ix < 0 || ix >= w->in_w) {
          memset(dst, pad_byte, chunk);
        } else {
          size_t off = ((size_t)((b * w->in_h + iy) * w->in_w + ix) * p->in_c + (size_t)g * p->group_in) * es;
          copy_taps(dst, in + off, chunk);
        }
      }
    }
  }
}

static ep_status prepare_common(ep_context *ctx, ep_node *node, conv_params **out_p) {
  ep_status st = ep_check_conv_operands(ctx, node);
  if (st != EP_OK) return st;
  ep_tensor *in = ep_input(ctx, node, 0), *filter = ep_input(ctx, node, 1), *bias = ep_input(ctx, node, 2);
  ep_tensor *out = ep_output(ctx, node, 0);
  conv_params *p = ep_alloc_persistent(ctx, sizeof *p);
  if (!p) return EP_ERROR_MEMORY;
  p->in_c = in->dims[3];
  p->out_c = filter->dims[0];
  p->group_in = filter->dims[3];
  if (p->group_in <= 0 || p->in_c % p->group_in != 0)
    return ep_kernel_fail(ctx, node, EP_ERROR_MODEL, "input has %d channels, filter '%s' has %d per group",
                          p->in_c, filter->name, p->group_in);
  p->groups = p->in_c / p->group_in;
  if (p->out_c % p->groups != 0)
    return ep_kernel_fail(ctx, node, EP_ERROR_MODEL, "%d output channels do not split into %d groups", p->out_c,
                          p->groups);
  p->group_out = p->out_c / p->groups;
  if ((st = ep_check_channel_count(ctx, node, bias, p->out_c)) != EP_OK) return st;
  ep_window *w = &p->w;
  if ((st = ep_conv_window(ctx, node, in, filter, SLOTS, w)) != EP_OK) return st;
  p->k = w->filter_h * w->filter_w * p->group_in;
  p->m = (int64_t)w->batch * w->out_h * w->out_w;
  p->direct = w->filter_h == 1 && w->filter_w == 1 && w->stride_h == 1 && w->stride_w == 1 && p->groups == 1;
  p->col_slot = -1;
  node->user_data = p;
  *out_p = p;
  int32_t dims[4] = {w->batch, w->out_h, w->out_w, p->out_c};
  return ep_set_shape(ctx, out, 4, dims);
}

/* Values per batch item of the input (the length of a hybrid kernel's quantized row). */
static int64_t item_len(const conv_params *p, const ep_tensor *in) {
  return (int64_t)(ep_num_elements(in) / (size_t)(p->w.batch > 0 ? p->w.batch : 1));
}

/* Scratch for per-thread im2col blocks of `es`-byte elements. */
static ep_status request_cols(ep_context *ctx, ep_node *node, conv_params *p, size_t es) {
  if (p->direct) return EP_OK;
  size_t bytes = (size_t)ep_num_threads(ctx) * MC * (size_t)p->k * es;
  return ep_request_scratch(ctx, node, bytes ? bytes : 1, &p->col_slot);
}

/* ---- float32 ---- */

static ep_status prepare_hybrid(ep_context *ctx, ep_node *node, conv_params *p);

static ep_status prepare_f32(ep_context *ctx, ep_node *node) {
  conv_params *p;
  ep_status st = prepare_common(ctx, node, &p);
  if (st != EP_OK) return st;
  ep_tensor *filter = ep_input(ctx, node, 1), *bias = ep_input(ctx, node, 2);
  if (filter->type == EP_INT8) return prepare_hybrid(ctx, node, p);
  if ((st = ep_check_type(ctx, node, filter, EP_FLOAT32, "filter")) != EP_OK) return st;
  st = ep_check_float_epilogue(ctx, node, bias, ep_opt_i8(node, OPT_ACTIVATION, EP_ACT_NONE), &p->lo, &p->hi);
  if (st != EP_OK) return st;
  if ((st = ep_gemm_weights_prepare_f32(ctx, node, filter, p->groups, p->group_out, p->k, &p->weights)) != EP_OK)
    return st;
  return request_cols(ctx, node, p, sizeof(float));
}

/* The GEMM's A matrix for output pixels [m0, m1) of group g: the input itself for a direct convolution, else
 * the im2col block in this thread's scratch. *lda gets its row stride in elements. */
static const void *block_matrix(const conv_job *j, size_t es, int pad_byte, int64_t m0, int64_t m1, int thread,
                                int64_t *lda) {
  const conv_params *p = j->p;
  if (p->direct) {
    *lda = p->in_c;
    return j->in + (size_t)m0 * p->in_c * es;
  }
  uint8_t *cols = j->cols + (size_t)thread * MC * (size_t)p->k * es;
  im2col(p, j->in, es, pad_byte, j->group, m0, m1, cols);
  *lda = p->k;
  return cols;
}

static void blocks_f32(void *arg, int64_t begin, int64_t end, int thread) {
  const conv_job *j = arg;
  const conv_params *p = j->p;
  int32_t c0 = j->group * p->group_out;
  const float *packed = (const float *)j->packed + (size_t)j->group * ep_gemm_group_count(&p->weights);
  ep_gemm_f32_out o = {j->bias ? (const float *)j->bias + c0 : NULL, p->lo, p->hi};
  float *out = (float *)j->out + c0;
  for (int64_t blk = begin; blk < end; blk++) {
    int64_t m0 = blk * MC, m1 = m0 + MC < p->m ? m0 + MC : p->m, lda;
    const float *a = block_matrix(j, sizeof(float), 0, m0, m1, thread, &lda);
    ep_gemm_f32(a, lda, packed, p->group_out, p->k, out + m0 * p->out_c, p->out_c, 0, m1 - m0, &o);
  }
}

/* Runs `blocks` over every group, MC output pixels per work item. */
static ep_status run_groups(ep_context *ctx, ep_node *node, const void *packed, ep_range_fn blocks) {
  const conv_params *p = node->user_data;
  ep_tensor *bias = ep_input(ctx, node, 2);
  conv_job job = {p, ep_input(ctx, node, 0)->data, packed, bias ? bias->data : NULL, ep_output(ctx, node, 0)->data,
                  p->col_slot >= 0 ? ep_scratch(ctx, node, p->col_slot) : NULL, 0, 0, {NULL, NULL, NULL}};
  int64_t n = (p->m + MC - 1) / MC;
  for (job.group = 0; job.group < p->groups; job.group++) ep_parallel_for(ctx, n, 1, blocks, &job);
  return EP_OK;
}

static ep_status eval_hybrid(ep_context *ctx, ep_node *node);

static ep_status eval_f32(ep_context *ctx, ep_node *node) {
  const conv_params *p = node->user_data;
  if (p->hybrid) return eval_hybrid(ctx, node);
  return run_groups(ctx, node, ep_gemm_weights_f32(ctx, node, ep_input(ctx, node, 1), &p->weights), blocks_f32);
}

/* ---- hybrid: float input, int8 filter ---- */

static ep_status prepare_hybrid(ep_context *ctx, ep_node *node, conv_params *p) {
  ep_tensor *in = ep_input(ctx, node, 0), *filter = ep_input(ctx, node, 1), *bias = ep_input(ctx, node, 2);
  ep_status st;
  if ((st = ep_hybrid_weight_scales(ctx, node, filter, p->out_c, &p->weight_scale, &p->asymmetric)) != EP_OK)
    return st;
  p->hybrid = 1;
  p->asymmetric = p->asymmetric || p->groups != 1;
  st = ep_check_float_epilogue(ctx, node, bias, ep_opt_i8(node, OPT_ACTIVATION, EP_ACT_NONE), &p->lo, &p->hi);
  if (st != EP_OK) return st;
  if ((st = ep_gemm_weights_prepare_s8(ctx, filter, p->groups, p->group_out, p->k, &p->weights)) != EP_OK) return st;
  if (!(p->weight_sums = ep_weight_sums_s8(ctx, filter->data, p->out_c, p->k))) return EP_ERROR_MEMORY;
  size_t rows_bytes = ep_hybrid_rows_bytes(p->w.batch, item_len(p, in)) + 1;
  if ((st = ep_request_scratch(ctx, node, rows_bytes, &p->rows_slot)) != EP_OK) return st;
  return request_cols(ctx, node, p, 1);
}

/* Blocks never straddle batch items, so one block's rows share their quantization parameters. */
static void blocks_hybrid(void *arg, int64_t begin, int64_t end, int thread) {
  const conv_job *j = arg;
  const conv_params *p = j->p;
  int64_t hw = (int64_t)p->w.out_h * p->w.out_w, per_batch = (hw + MC - 1) / MC;
  int32_t c0 = j->group * p->group_out;
  const int16_t *packed = (const int16_t *)j->packed + (size_t)j->group * ep_gemm_group_count(&p->weights);
  float *out = (float *)j->out + c0;
  for (int64_t blk = begin; blk < end; blk++) {
    int64_t b = blk / per_batch, m0 = b * hw + (blk % per_batch) * MC;
    int64_t m1 = m0 + MC < (b + 1) * hw ? m0 + MC : (b + 1) * hw;
    ep_gemm_hybrid_out o = {j->bias ? (const float *)j->bias + c0 : NULL, p->weight_sums + c0, p->weight_scale + c0,
                            j->rows.scale + b, j->rows.zero_point + b, 0, !p->asymmetric, p->lo, p->hi};
    int64_t lda;
    const int8_t *a = block_matrix(j, 1, (uint8_t)(int8_t)j->rows.zero_point[b], m0, m1, thread, &lda);
    ep_gemm_s8_f32(a, lda, packed, p->group_out, p->k, out + m0 * p->out_c, p->out_c, 0, m1 - m0, &o);
  }
}

static ep_status eval_hybrid(ep_context *ctx, ep_node *node) {
  const conv_params *p = node->user_data;
  ep_tensor *in = ep_input(ctx, node, 0), *bias = ep_input(ctx, node, 2);
  ep_hybrid_rows rows = ep_hybrid_rows_at(ep_scratch(ctx, node, p->rows_slot), p->w.batch, item_len(p, in));
  ep_hybrid_quantize(ctx, in->data, p->w.batch, item_len(p, in), p->asymmetric, &rows);
  conv_job job = {p, (const uint8_t *)rows.q, p->weights.packed, bias ? bias->data : NULL,
                  ep_output(ctx, node, 0)->data, p->col_slot >= 0 ? ep_scratch(ctx, node, p->col_slot) : NULL, 0, 0,
                  rows};
  int64_t hw = (int64_t)p->w.out_h * p->w.out_w, n = p->w.batch * ((hw + MC - 1) / MC);
  for (job.group = 0; job.group < p->groups; job.group++) ep_parallel_for(ctx, n, 1, blocks_hybrid, &job);
  return EP_OK;
}

/* ---- quantized: per-channel requantization constants shared by int8 and 16x8 ---- */

static ep_status prepare_requant(ep_context *ctx, ep_node *node, conv_params *p) {
  ep_tensor *filter = ep_input(ctx, node, 1);
  if (!filter->is_constant)
    return ep_kernel_fail(ctx, node, EP_ERROR_UNSUPPORTED, "quantized filter '%s' must be a constant",
                          filter->name);
  return ep_prepare_channel_requant(ctx, node, p->out_c, ep_opt_i8(node, OPT_ACTIVATION, EP_ACT_NONE), "filter",
                                    &p->rq);
}

/* ---- int8 ---- */

static ep_status prepare_s8(ep_context *ctx, ep_node *node) {
  conv_params *p;
  ep_status st = prepare_common(ctx, node, &p);
  if (st != EP_OK) return st;
  if ((st = prepare_requant(ctx, node, p)) != EP_OK) return st;
  ep_tensor *filter = ep_input(ctx, node, 1), *bias = ep_input(ctx, node, 2);
  if (bias && (st = ep_check_type(ctx, node, bias, EP_INT32, "bias")) != EP_OK) return st;
  if ((st = ep_gemm_weights_prepare_s8(ctx, filter, p->groups, p->group_out, p->k, &p->weights)) != EP_OK) return st;
  if (!(p->weight_sums = ep_weight_sums_s8(ctx, filter->data, p->out_c, p->k))) return EP_ERROR_MEMORY;
  return request_cols(ctx, node, p, 1);
}

static void blocks_s8(void *arg, int64_t begin, int64_t end, int thread) {
  const conv_job *j = arg;
  const conv_params *p = j->p;
  const ep_channel_requant *rq = &p->rq;
  int32_t c0 = j->group * p->group_out;
  const int16_t *packed = (const int16_t *)j->packed + (size_t)j->group * ep_gemm_group_count(&p->weights);
  ep_gemm_s8_out o = {j->bias ? (const int32_t *)j->bias + c0 : NULL, p->weight_sums + c0, rq->input_offset,
                      rq->multiplier + c0, rq->shift + c0, rq->output_offset, rq->lo, rq->hi};
  int8_t *out = (int8_t *)j->out + c0;
  for (int64_t blk = begin; blk < end; blk++) {
    int64_t m0 = blk * MC, m1 = m0 + MC < p->m ? m0 + MC : p->m, lda;
    const int8_t *a = block_matrix(j, 1, (uint8_t)(int8_t)(-rq->input_offset), m0, m1, thread, &lda);
    ep_gemm_s8(a, lda, packed, p->group_out, p->k, out + m0 * p->out_c, p->out_c, 0, m1 - m0, &o);
  }
}

static ep_status eval_s8(ep_context *ctx, ep_node *node) {
  const conv_params *p = node->user_data;
  return run_groups(ctx, node, p->weights.packed, blocks_s8);
}

/* ---- int16 activations, int8 filter ---- */

static ep_status prepare_s16(ep_context *ctx, ep_node *node) {
  conv_params *p;
  ep_status st = prepare_common(ctx, node, &p);
  if (st != EP_OK) return st;
  if ((st = prepare_requant(ctx, node, p)) != EP_OK) return st;
  return ep_check_bias_16x8(ctx, node, ep_input(ctx, node, 2));
}

/* One output row (b, oy) per item. */
static void rows_s16(void *arg, int64_t begin, int64_t end, int thread) {
  (void)thread;
  const conv_job *j = arg;
  const conv_params *p = j->p;
  const ep_window *w = &p->w;
  const int16_t *in = (const int16_t *)j->in;
  const int8_t *filter = j->packed;
  for (int64_t row = begin; row < end; row++) {
    int64_t b = row / w->out_h, oy = row % w->out_h;
    int16_t *out = (int16_t *)j->out + (size_t)row * w->out_w * p->out_c;
    for (int32_t ox = 0; ox < w->out_w; ox++) {
      for (int32_t oc = 0; oc < p->out_c; oc++) {
        int32_t g = oc / p->group_out;
        int64_t acc = 0;
        for (int32_t ky = 0; ky < w->filter_h; ky++) {
          int64_t iy = oy * w->stride_h - w->pad_top + (int64_t)ky * w->dilation_h;
          if (iy < 0 || iy >= w->in_h) continue;
          for (int32_t kx = 0; kx < w->filter_w; kx++) {
            int64_t ix = (int64_t)ox * w->stride_w - w->pad_left + (int64_t)kx * w->dilation_w;
            if (ix < 0 || ix >= w->in_w) continue;
            const int16_t *px = in + ((b * w->in_h + iy) * w->in_w + ix) * p->in_c + (int64_t)g * p->group_in;
            const int8_t *f = filter + (((size_t)oc * w->filter_h + ky) * w->filter_w + kx) * p->group_in;
            for (int32_t ic = 0; ic < p->group_in; ic++) acc += (int64_t)px[ic] * f[ic];
          }
        }
        acc = ep_add_wrap64(acc, ep_bias_16x8(j->bias, j->bias64, oc));
        out[(size_t)ox * p->out_c + oc] = (int16_t)ep_requant_s64(&p->rq, acc, oc);
      }
    }
  }
}

static ep_status eval_s16(ep_context *ctx, ep_node *node) {
  const conv_params *p = node->user_data;
  ep_tensor *bias = ep_input(ctx, node, 2);
  conv_job job = {p, ep_input(ctx, node, 0)->data, ep_input(ctx, node, 1)->data, bias ? bias->data : NULL,
                  ep_output(ctx, node, 0)->data, NULL, 0, bias && bias->type == EP_INT64, {NULL, NULL, NULL}};
  ep_parallel_for(ctx, (int64_t)p->w.batch * p->w.out_h, 1, rows_s16, &job);
  return EP_OK;
}

const ep_kernel ep_kernels_conv[] = {
    {EP_OP_CONV_2D, EP_FLOAT32, EP_ISA_REF, EP_OPTIONS_Conv2DOptions, "conv2d_f32_ref", prepare_f32, eval_f32},
    {EP_OP_CONV_2D, EP_INT8, EP_ISA_REF, EP_OPTIONS_Conv2DOptions, "conv2d_s8_ref", prepare_s8, eval_s8},
    {EP_OP_CONV_2D, EP_INT16, EP_ISA_REF, EP_OPTIONS_Conv2DOptions, "conv2d_s16x8_ref", prepare_s16, eval_s16},
    EP_KERNEL_END,
};
