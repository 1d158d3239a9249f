"""ONNX pooling -> TFLite MAX_POOL_2D / AVERAGE_POOL_2D, and global pooling -> MEAN / REDUCE_MAX.

A pool whose pads TFLite's SAME/VALID express (and, for averages, whose divisor TFLite's matches: it
counts only input pixels) is one op. Any other pool is computed as: pad explicitly (PADV2 with the lowest
float for max, PAD with zeros for average), take every dilation-th pixel when the stride is a multiple of
the dilation, VALID pool, and for averages multiply by a constant that turns TFLite's divisor (the whole
kernel, every pixel now being in bounds) into ONNX's (count_include_pad, ceil_mode overhang excluded).
1-D pools get a unit H axis; 3-D pools are separable: pool H, W with D folded into channels, then D.
"""
from __future__ import annotations

import numpy as np

from ..ir import Tensor
from .common import (Window, expand_dims, pad_spatial, reshape_to, slice_axis, squeeze, tflite_padding,
                     window)

TFLITE_POOL = {"MaxPool": "MAX_POOL_2D", "AveragePool": "AVERAGE_POOL_2D"}


def lower_pool(ctx, node):
    x = ctx.input(0)
    attrs = ctx.attrs()
    out = node.output[0]
    if len(node.output) > 1 and node.output[1]:
        ctx.fail("the Indices output is not supported")
    if x.rank not in (3, 4, 5):
        ctx.fail(f"{x.rank - 2}-D pooling is not supported (1-D, 2-D and 3-D are)")
    op_type = TFLITE_POOL[node.op_type]
    sizes = x.shape[2:]
    win = window(ctx, attrs, sizes, list(attrs["kernel_shape"]))
    overhang = ceil_overhang(ctx, win, sizes) if attrs.get("ceil_mode", 0) else [0] * len(sizes)
    full = Window(win.kernel, win.strides, win.dilations, win.begins,
                  [e if e is None else e + o for e, o in zip(win.ends, overhang)])
    include_pad = op_type == "AVERAGE_POOL_2D" and bool(attrs.get("count_include_pad", 0))
    padding = tflite_padding(full, sizes) if x.rank == 4 and set(win.dilations) == {1} else None
    if padding == "VALID" or (padding == "SAME" and not include_pad):
        pool2d(ctx, op_type, x, full.kernel, full.strides, padding, out=out)
        return
    if None in sizes or None in win.begins:
        ctx.fail("these pads need static spatial input sizes; give them with --input-shape")
    value = lowest(x.dtype) if op_type == "MAX_POOL_2D" else None
    y = pad_spatial(ctx, x, full.begins, full.ends, value) if full.padded else x
    strides = list(win.strides)
    for i, (s, d) in enumerate(zip(win.strides, win.dilations)):
        if d == 1:
            continue
        if s % d:
            ctx.fail(f"dilation {d} with stride {s} is not supported (the stride must be a multiple of the dilation)")
        y = slice_axis(ctx, y, 2 + i, 0, None, d)
        strides[i] = s // d
    divisor = onnx_divisor(win, sizes, overhang, include_pad) if op_type == "AVERAGE_POOL_2D" else None
    exact = divisor is None or np.all(divisor == np.prod(win.kernel))
    y = pool_valid(ctx, op_type, y, win.kernel, strides, out=out if exact else None)
    if not exact:
        # Shaped by us: ONNX shape inference ignores ceil_mode's rule that the last window must start
        # inside the input or the pad before, so it may disagree with onnxruntime and with this result.
        factor = (np.prod(win.kernel) / divisor).astype(x.dtype).reshape((1, 1) + divisor.shape)
        ctx.emit("MUL", [y, ctx.const(factor, hint="divisor")], out=out, shape=y.shape)


def lowest(dtype: str):
    """The max pool's pad value: below every input, and finite so that quantizing it stays possible."""
    return (np.finfo if np.dtype(dtype).kind == "f" else np.iinfo)(dtype).min


def ceil_overhang(ctx, win: Window, sizes) -> list:
    """Pad after that ceil_mode adds: the last window may start inside the input or the pad before, as
    in onnxruntime and PyTorch, and hang over the end."""
    extra = []
    for size, k, s, b, e in zip(sizes, win.effective, win.strides, win.begins, win.ends):
        if size is None or b is None:
            ctx.fail("ceil_mode=1 needs static spatial input sizes; give them with --input-shape")
        span = size + b + e - k
        count = -(-span // s) + 1
        if (count - 1) * s >= size + b:
            count -= 1
        extra.append(max((count - 1) * s - span, 0))
    return extra


def onnx_divisor(win: Window, sizes, overhang, include_pad: bool) -> np.ndarray:
    """ONNX's average divisor per output position: taps inside the input (count_include_pad=0) or inside
    input and explicit pads (=1); never the ceil_mode overhang. Windows are products of per-axis ranges."""
    counts = []
    for size, k, s, d, b, e, o in zip(sizes, win.kernel, win.strides, win.dilations, win.begins, win.ends,
                                      overhang):
        n_out = (size + b + e + o - (k - 1) * d - 1) // s + 1
        taps = np.arange(n_out)[:, None] * s + np.arange(k)[None, :] * d - b
        lo, hi = (-b, size + e) if include_pad else (0, size)
        counts.append(((taps >= lo) & (taps < hi)).sum(axis=1))
    total = counts[0]
    for c in counts[1:]:
        total = np.multiply.outer(total, c)
    return total


def pool2d(ctx, op_type: str, x: Tensor, kernel, strides, padding: str, out=None) -> Tensor:
    n, c, h, w = x.shape
    win = Window(list(kernel), list(strides), [1, 1], [0, 0], [0, 0])
    oh, ow = ([None if d is None else -(-d // s) for d, s in zip((h, w), strides)] if padding == "SAME"
              else win.out_sizes((h, w)))
    options = {"padding": padding, "stride_h": strides[0], "stride_w": strides[1],
               "filter_height": kernel[0], "filter_width": kernel[1]}
    return ctx.channels_last(op_type, x, [], options, out, out_shape=(n, c, oh, ow))


def pool_valid(ctx, op_type: str, x: Tensor, kernel, strides, out=None) -> Tensor:
    """An unpadded pool over the spatial axes of a 1-, 2- or 3-D N, C, spatial... tensor."""
    if x.rank == 3:
        y = pool2d(ctx, op_type, expand_dims(ctx, x, 2), [1, kernel[0]], [1, strides[0]], "VALID")
        return squeeze(ctx, y, 2, out=out)
    if x.rank == 4:
        return pool2d(ctx, op_type, x, kernel, strides, "VALID", out=out)
    n, c, d, h, w = x.shape
    if None in (c, d, h, w):
        ctx.fail("3-D pooling needs static C, D, H, W; give them with --input-shape")
    planes = pool2d(ctx, op_type, reshape_to(ctx, x, (n, c * d, h, w)), kernel[1:], strides[1:], "VALID")
    ho, wo = planes.shape[2:]
    depth = pool2d(ctx, op_type, reshape_to(ctx, planes, (n, c, d, ho * wo)), [kernel[0], 1], [strides[0], 1],
                   "VALID")
    return reshape_to(ctx, depth, (n, c, depth.shape[2], ho, wo), out=out)


def lower_global_pool(ctx, node):
    x = ctx.input(0)
    op_type = {"GlobalAveragePool": "MEAN", "GlobalMaxPool": "REDUCE_MAX"}[node.op_type]
    axes = np.arange(2, x.rank, dtype=np.int32)
    ctx.emit(op_type, [x, ctx.const(axes, hint="axes")], {"keep_dims": True}, out=node.output[0],
             shape=x.shape[:2] + (1,) * (x.rank - 2))


LOWERINGS = {
    "MaxPool": lower_pool,
    "AveragePool": lower_pool,
    "GlobalAveragePool": lower_global_pool,
    "GlobalMaxPool": lower_global_pool,
}
