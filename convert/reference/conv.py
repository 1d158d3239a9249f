"""Convolutions: CONV_2D (grouped when the input has a multiple of the filter's channels), DEPTHWISE_CONV_2D
and TRANSPOSE_CONV, on NHWC activations. im2col over a strided view plus one batched matmul (BLAS), or one
multiply-add per filter tap for depthwise; float32 throughout, like TFLite's float kernels."""
from __future__ import annotations

import numpy as np

from .activations import apply_fused
from .window import out_size_and_pad, patches


def _geometry(op):
    o = op.options
    return (o["stride_h"], o["stride_w"]), (o.get("dilation_h_factor", 1), o.get("dilation_w_factor", 1))


def _with_bias(op, y, bias):
    return apply_fused(op, y if bias is None else y + bias)


def conv_2d(op, x, w, bias=None):
    """w is OHWI with I = input channels / groups; output channel o belongs to group o // (O / groups)."""
    stride, dilation = _geometry(op)
    cout, kh, kw, cg = w.shape
    groups = x.shape[3] // cg
    cols = patches(x, (kh, kw), stride, dilation, op.options["padding"])
    n, oh, ow = cols.shape[:3]
    cols = cols.reshape(n * oh * ow, kh * kw, groups, cg).transpose(2, 0, 1, 3).reshape(groups, -1, kh * kw * cg)
    wg = w.reshape(groups, cout // groups, kh * kw * cg).transpose(0, 2, 1)
    y = np.matmul(cols, wg).transpose(1, 0, 2).reshape(n, oh, ow, cout)
    return _with_bias(op, y, bias)


def depthwise_conv_2d(op, x, w, bias=None):
    """w is 1HW(C*M): output channel c*M + m filters input channel c."""
    stride, dilation = _geometry(op)
    _, kh, kw, cm = w.shape
    c = x.shape[3]
    taps = w.reshape(kh, kw, c, cm // c)
    cols = patches(x, (kh, kw), stride, dilation, op.options["padding"])
    y = np.zeros(cols.shape[:3] + (c, cm // c), dtype=np.result_type(x, w))
    for i in range(kh):
        for j in range(kw):
            y += cols[:, :, :, i, j, :, None] * taps[i, j]
    return _with_bias(op, y.reshape(cols.shape[:3] + (cm,)), bias)


def transpose_conv(op, output_shape, w, x, bias=None):
    """Scatter form: input pixel (y, x) adds w[:, i, j, :] @ x[y, x] at output (y*sh - pad_top + i, ...).

    The padding is the SAME/VALID padding of the forward convolution whose input is `output_shape`."""
    (sh, sw), _ = _geometry(op)
    cout, kh, kw, cin = w.shape
    n, h, wd, _ = x.shape
    out_h, out_w = int(output_shape[1]), int(output_shape[2])
    _, top, _ = out_size_and_pad(out_h, kh, sh, 1, op.options["padding"])
    _, left, _ = out_size_and_pad(out_w, kw, sw, 1, op.options["padding"])
    contrib = (x.reshape(-1, cin) @ w.transpose(3, 1, 2, 0).reshape(cin, -1)).reshape(n, h, wd, kh, kw, cout)
    canvas_h = max((h - 1) * sh + kh, top + out_h)
    canvas_w = max((wd - 1) * sw + kw, left + out_w)
    canvas = np.zeros((n, canvas_h, canvas_w, cout), dtype=contrib.dtype)
    for i in range(kh):
        for j in range(kw):
            canvas[:, i:i + (h - 1) * sh + 1:sh, j:j + (wd - 1) * sw + 1:sw] += contrib[:, :, :, i, j]
    return _with_bias(op, canvas[:, top:top + out_h, left:left + out_w], bias)


OPS = {
    "CONV_2D": conv_2d,
    "DEPTHWISE_CONV_2D": depthwise_conv_2d,
    "TRANSPOSE_CONV": transpose_conv,
}
