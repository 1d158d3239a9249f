/* Sliding-window geometry shared by convolutions and pooling: TFLite's output size and padding rules.
 * SAME pads so that out = ceil(in / stride), putting the odd pixel of padding at the end (bottom/right);
 * VALID uses no padding. Kernels only need the leading pad; TRANSPOSE_CONV also needs the odd offset. */
#ifndef EP_KERNELS_WINDOW_H
#define EP_KERNELS_WINDOW_H

#include <stdint.h>

#include "../kernel.h"

static inline int32_t ep_window_out_size(int padding, int32_t in, int32_t filter, int32_t stride, int32_t dilation) {
  int32_t effective = (filter - 1) * dilation + 1;
  if (stride <= 0) return 0;
  if (padding == EP_PADDING_SAME) return (in + stride - 1) / stride;
  return in + stride - effective >= 0 ? (in + stride - effective) / stride : 0;
}

/* Leading padding for `out` outputs; *odd gets the extra trailing pixel (0 or 1) when requested. */
static inline int32_t ep_window_pad(int32_t stride, int32_t dilation, int32_t in, int32_t filter, int32_t out,
                                    int32_t *odd) {
  int32_t effective = (filter - 1) * dilation + 1;
  int32_t total = (out - 1) * stride + effective - in;
  if (total < 0) total = 0;
  if (odd) *odd = total % 2;
  return total / 2;
}

/* Spatial geometry of an NHWC window op. */
typedef struct ep_window {
  int32_t batch, in_h, in_w, out_h, out_w;
  int32_t filter_h, filter_w, stride_h, stride_w, dilation_h, dilation_w;
  int32_t pad_top, pad_left;
} ep_window;

/* Fills out_h/out_w and pads from the inputs already in w; returns 0 for a degenerate stride/dilation. */
static inline int ep_window_plan(ep_window *w, int padding) {
  if (w->stride_h < 1 || w->stride_w < 1 || w->dilation_h < 1 || w->dilation_w < 1) return 0;
  if (padding != EP_PADDING_SAME && padding != EP_PADDING_VALID) return 0;
  w->out_h = ep_window_out_size(padding, w->in_h, w->filter_h, w->stride_h, w->dilation_h);
  w->out_w = ep_window_out_size(padding, w->in_w, w->filter_w, w->stride_w, w->dilation_w);
  w->pad_top = padding == EP_PADDING_SAME ? ep_window_pad(w->stride_h, w->dilation_h, w->in_h, w->filter_h, w->out_h, NULL) : 0;
  w->pad_left = padding == EP_PADDING_SAME ? ep_window_pad(w->stride_w, w->dilation_w, w->in_w, w->filter_w, w->out_w, NULL) : 0;
  return 1;
}

/* Option slots of a convolution's geometry (Conv2DOptions and DepthwiseConv2DOptions number them apart). */
typedef struct ep_conv_slots {
  int padding, stride_w, stride_h, dilation_w, dilation_h;
} ep_conv_slots;

/* Plans the window of an NHWC convolution of `in` [N,H,W,C] by `filter` [.,H,W,.] from the node's options. */
static inline ep_status ep_conv_window(ep_context *ctx, const ep_node *node, const ep_tensor *in,
                                       const ep_tensor *filter, ep_conv_slots s, ep_window *w) {
  w->batch = in->dims[0];
  w->in_h = in->dims[1];
  w->in_w = in->dims[2];
  w->filter_h = filter->dims[1];
  w->filter_w = filter->dims[2];
  w->stride_h = ep_opt_i32(node, s.stride_h, 1);
  w->stride_w = ep_opt_i32(node, s.stride_w, 1);
  w->dilation_h = ep_opt_i32(node, s.dilation_h, 1);
  w->dilation_w = ep_opt_i32(node, s.dilation_w, 1);
  if (!ep_window_plan(w, ep_opt_i8(node, s.padding, EP_PADDING_SAME)))
    return ep_kernel_fail(ctx, node, EP_ERROR_MODEL, "invalid stride, dilation or padding");
  return EP_OK;
}

#endif
