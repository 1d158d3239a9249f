/* TRANSPOSE_CONV (float32): inputs (output_shape, OHWI weights, NHWC input, optional bias), fused activation.
 * Each output pixel gathers the input pixels whose stride-spaced footprint covers it (the transpose of a
 * convolution's gather), so output rows are independent and split across threads. Weights are re-laid out
 * once as [ky][kx][ic][oc] so that every tap updates a contiguous row of output channels (vectorizable);
 * non-constant weights are re-laid out into scratch at every run. Padding follows TFLite: computed as for a
 * forward convolution from the output size back to the input. */
#include "../kernel.h"
#include "util.h"
#include "vec.h"
#include "window.h"

/* TransposeConvOptions field slots (schema.fbs). */
enum { OPT_PADDING = 0, OPT_STRIDE_W = 1, OPT_STRIDE_H = 2, OPT_ACTIVATION = 3 };

typedef struct tconv_params {
  int32_t batch, in_h, in_w, in_c, out_h, out_w, out_c, kh, kw, sh, sw, pad_top, pad_left;
  float lo, hi;
  const float *wt; /* constant weights as [ky][kx][ic][oc], else NULL */
  int wt_slot;
} tconv_params;

typedef struct tconv_job {
  const tconv_params *p;
  const float *in, *wt, *bias;
  float *out;
} tconv_job;

static void relayout(const tconv_params *p, const float *w, float *wt) {
  for (int32_t oc = 0; oc < p->out_c; oc++)
    for (int32_t ky = 0; ky < p->kh; ky++)
      for (int32_t kx = 0; kx < p->kw; kx++)
        for (int32_t ic = 0; ic < p->in_c; ic++)
          wt[(((size_t)ky * p->kw + kx) * p->in_c + ic) * p->out_c + oc] =
              w[(((size_t)oc * p->kh + ky) * p->kw + kx) * p->in_c + ic];
}

static ep_status prepare(ep_context *ctx, ep_node *node) {
  ep_status st = ep_check_arity(ctx, node, 3, 4, 1);
  if (st != EP_OK) return st;
  ep_tensor *shape = ep_input(ctx, node, 0), *w = ep_input(ctx, node, 1), *in = ep_input(ctx, node, 2);
  ep_tensor *bias = ep_input(ctx, node, 3), *out = ep_output(ctx, node, 0);
  if (in->type != EP_FLOAT32)
    return ep_kernel_fail(ctx, node, EP_ERROR_UNSUPPORTED, "%s input is not supported", ep_dtype_name(in->type));
  if ((st = ep_check_type(ctx, node, w, EP_FLOAT32, "weights")) != EP_OK) return st;
  if ((st = ep_check_type(ctx, node, out, EP_FLOAT32, "output")) != EP_OK) return st;
  if (bias && (st = ep_check_type(ctx, node, bias, EP_FLOAT32, "bias")) != EP_OK) return st;
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
  if ((st = ep_activation_range_f32(ctx, node, ep_opt_i8(node, OPT_ACTIVATION, EP_ACT_NONE), &p->lo, &p->hi)) != EP_OK)
    return st;
  size_t bytes = ep_num_elements(w) * sizeof(float) + 1;
  p->wt_slot = -1;
  if (w->is_constant) {
    float *wt = ep_alloc_persistent(ctx, bytes);
    if (!wt) return EP_ERROR_MEMORY;
    relayout(p, w->data, wt);
    p->wt = wt;
  } else if ((st = ep_request_scratch(ctx, node, bytes, &p->wt_slot)) != EP_OK) {
    return st;
  }
  node->user_data = p;
  return ep_set_shape(ctx, out, 4, dims);
}

/* One output row (b, oy) per item: tap (ky, kx) reads input pixel ((oy + pad - ky) / s, ...) when the
 * division is exact and in range. */
static void rows(void *arg, int64_t begin, int64_t end, int thread) {
  (void)thread;
  const tconv_job *j = arg;
  const tconv_params *p = j->p;
  int32_t C = p->out_c;
  for (int64_t row = begin; row < end; row++) {
    int64_t b = row / p->out_h, oy = row % p->out_h;
    for (int32_t ox = 0; ox < p->out_w; ox++) {
      float *acc = j->out + (row * p->out_w + ox) * C;
      ep_vec_fill(acc, 0.0f, C);
      for (int32_t ky = 0; ky < p->kh; ky++) {
        int64_t ty = oy + p->pad_top - ky;
        if (ty < 0 || ty % p->sh) continue;
        int64_t iy = ty / p->sh;
        if (iy >= p->in_h) continue;
        for (int32_t kx = 0; kx < p->kw; kx++) {
          int64_t tx = (int64_t)ox + p->pad_left - kx;
          if (tx < 0 || tx % p->sw) continue;
          int64_t ix = tx / p->sw;
          if (ix >= p->in_w) continue;
          const float *px = j->in + ((b * p->in_h + iy) * p->in_w + ix) * p->in_c;
          const float *wt = j->wt + ((size_t)ky * p->kw + kx) * p->in_c * C;
          for (int32_t ic = 0; ic < p->in_c; ic++) {
            ep_vec_scale_add(acc, px[ic], wt + (size_t)ic * C, C);
          }
        }
      }
      for (int32_t c = 0; c < C; c++) {
        float v = acc[c] + (j->bias ? j->bias[c] : 0.0f);
        acc[c] = v < p->lo ? p->lo : (v > p->hi ? p->hi : v);
      }
    }
  }
}

static ep_status eval(ep_context *ctx, ep_node *node) {
  const tconv_params *p = node->user_data;
  ep_tensor *bias = ep_input(ctx, node, 3);
  tconv_job job = {p, ep_input(ctx, node, 2)->data, p->wt, bias ? bias->data : NULL, ep_output(ctx, node, 0)->data};
  if (!p->wt) {
    float *wt = ep_scratch(ctx, node, p->wt_slot);
    relayout(p, ep_input(ctx, node, 1)->data, wt);
    job.wt = wt;
  }
  ep_parallel_for(ctx, (int64_t)p->batch * p->out_h, 1, rows, &job);
  return EP_OK;
}

const ep_kernel ep_kernels_transpose_conv[] = {
    {EP_OP_TRANSPOSE_CONV, EP_ANY_DTYPE, EP_ISA_REF, EP_OPTIONS_TransposeConvOptions, "transpose_conv_f32_ref",
     prepare, eval},
    EP_KERNEL_END,
};
