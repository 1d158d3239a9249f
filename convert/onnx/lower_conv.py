"""ONNX Conv and ConvTranspose -> TFLite CONV_2D, DEPTHWISE_CONV_2D and TRANSPOSE_CONV.

Everything runs as a 2-D convolution on N, C, H, W: 1-D convolutions get a unit H axis (EXPAND_DIMS /
SQUEEZE around them); 3-D convolutions stack the kernel's depth taps into channels (strided slices along
depth, concatenated) and run one 2-D convolution per output depth, folded into the batch. Pads TFLite's
SAME/VALID cannot express are applied with an explicit PAD before a VALID convolution.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..ir import Tensor
from .common import (Window, expand_dims, pad_spatial, permute, reshape_to, slice_axis, squeeze, tflite_padding,
                     window)
from .lower_elementwise import binary


def lower_conv(ctx, node):
    x, w, b = ctx.input(0), ctx.input(1), ctx.input(2)
    attrs = ctx.attrs()
    kernel = list(attrs.get("kernel_shape") or w.shape[2:])
    if None in kernel:
        ctx.fail("the kernel shape is unknown; give kernel_shape or constant weights")
    group = int(attrs.get("group", 1))
    win = window(ctx, attrs, x.shape[2:], kernel)
    out = node.output[0]
    if x.rank == 3:
        y = conv2d(ctx, expand_dims(ctx, x, 2), unsqueeze_weights(ctx, w), b, group, lift_1d(win))
        squeeze(ctx, y, 2, out=out)
    elif x.rank == 4:
        conv2d(ctx, x, w, b, group, win, out=out)
    elif x.rank == 5:
        conv3d(ctx, x, w, b, group, win, out)
    else:
        ctx.fail(f"{x.rank - 2}-D convolution is not supported (1-D, 2-D and 3-D are)")


def lift_1d(win: Window) -> Window:
    """A 1-D window as a 2-D one over (1, W)."""
    return Window([1, *win.kernel], [1, *win.strides], [1, *win.dilations], [0, *win.begins], [0, *win.ends])


def unsqueeze_weights(ctx, w: Tensor) -> Tensor:
    """O, I, K -> O, I, 1, K."""
    if w.data is not None:
        return ctx.const(w.data[:, :, None, :], hint="weights")
    return expand_dims(ctx, w, 2)


def conv2d(ctx, x: Tensor, w: Tensor, b: Tensor | None, group: int, win: Window, out=None) -> Tensor:
    """Conv on N, C, H, W with ONNX OIHW weights; returns N, O, H', W'."""
    padding = tflite_padding(win, x.shape[2:])
    if padding is None:
        x = pad_spatial(ctx, x, win.begins, win.ends)
        win = Window(win.kernel, win.strides, win.dilations, [0, 0], [0, 0])
        padding = "VALID"
    cout = w.shape[0]
    cin = x.shape[1] if x.shape[1] is not None else w.shape[1] * group
    bias = b if b is not None else ctx.const(np.zeros(cout, w.dtype), hint="bias")
    options = {"padding": padding, "stride_h": win.strides[0], "stride_w": win.strides[1],
               "dilation_h_factor": win.dilations[0], "dilation_w_factor": win.dilations[1]}
    out_shape = (x.shape[0], cout, *win.out_sizes(x.shape[2:]))
    if group > 1 and group == cin:
        # Output channel c*M + m filters input channel c: ONNX (C*M, 1, H, W) -> TFLite 1, H, W, C*M.
        filters = permute(ctx, w, (1, 2, 3, 0))
        options["depth_multiplier"] = cout // cin
        return ctx.channels_last("DEPTHWISE_CONV_2D", x, [filters, bias], options, out, out_shape=out_shape)
    # Grouped: TFLite CONV_2D runs groups = input channels / filter input channels, each group's outputs
    # contiguous, exactly ONNX's grouping.
    return ctx.channels_last("CONV_2D", x, [permute(ctx, w, (0, 2, 3, 1)), bias], options, out, out_shape=out_shape)


def conv3d(ctx, x: Tensor, w: Tensor, b: Tensor | None, group: int, win: Window, out: str) -> None:
    """Depth taps become channels: for tap t, x[:, :, t*dd :: sd] (Do slices); concatenated they give
    N, kd*C, Do, H, W, channel t*C + c; with Do folded into the batch one 2-D convolution with weights
    W2[o, t*C + c] = W[o, c, t] computes every output depth."""
    if w.data is None:
        ctx.fail("3-D convolution needs constant weights")
    n, c, d, h, wd = x.shape
    if None in (c, d, h, wd):
        ctx.fail("3-D convolution needs static C, D, H, W; give them with --input-shape")
    kd, sd, dd = win.kernel[0], win.strides[0], win.dilations[0]
    if win.begins[0] or win.ends[0]:
        x = pad_spatial(ctx, x, [win.begins[0], 0, 0], [win.ends[0], 0, 0])
        d += win.begins[0] + win.ends[0]
    depth_out = (d - (kd - 1) * dd - 1) // sd + 1
    taps = [slice_axis(ctx, x, 2, t * dd, t * dd + (depth_out - 1) * sd + 1, sd) for t in range(kd)]
    stacked = taps[0] if kd == 1 else ctx.emit(
        "CONCATENATION", taps, {"axis": 1}, shape=(n, kd * c, depth_out, h, wd))
    flat = reshape_to(ctx, ctx.transpose(stacked, (0, 2, 1, 3, 4)), (None, kd * c, h, wd))
    dense = block_diagonal(w.data, group)
    w2 = ctx.const(dense.transpose(0, 2, 1, 3, 4).reshape(dense.shape[0], kd * c, *dense.shape[3:]), hint="weights")
    win2 = Window(win.kernel[1:], win.strides[1:], win.dilations[1:], win.begins[1:], win.ends[1:])
    y = conv2d(ctx, flat, w2, b, 1, win2)
    cout, (ho, wo) = dense.shape[0], y.shape[2:]
    ctx.transpose(reshape_to(ctx, y, (n, depth_out, cout, ho, wo)), (0, 2, 1, 3, 4), out=out)


def block_diagonal(w: np.ndarray, group: int) -> np.ndarray:
    """Grouped weights (full channel axis 0, per-group channel axis 1 — Conv's O, C/g and ConvTranspose's
    C, O/g) as dense ones: group g's block sits at its channel ranges on both axes and the rest is zero,
    so one ungrouped op computes the grouped one exactly."""
    if group == 1:
        return w
    full, per_group = w.shape[:2]
    dense = np.zeros((full, per_group * group, *w.shape[2:]), w.dtype)
    step = full // group
    for g in range(group):
        dense[g * step:(g + 1) * step, g * per_group:(g + 1) * per_group] = w[g * step:(g + 1) * step]
    return dense


# -- ConvTranspose -----------------------------------------------------------------------------------
def lower_conv_transpose(ctx, node):
    x, w, b = ctx.input(0), ctx.input(1), ctx.input(2)
    if w.data is None:
        ctx.fail("ConvTranspose needs constant weights")
    attrs = ctx.attrs()
    out = node.output[0]
    if x.rank == 3:
        lifted = dict(attrs)
        for key, pad in (("kernel_shape", 1), ("strides", 1), ("dilations", 1), ("output_padding", 0)):
            if key in attrs:
                lifted[key] = [pad, *attrs[key]]
        if attrs.get("output_shape"):
            lifted["output_shape"] = [1, attrs["output_shape"][-1]]
        if "pads" in attrs:
            lifted["pads"] = [0, attrs["pads"][0], 0, attrs["pads"][1]]
        y = conv_transpose2d(ctx, expand_dims(ctx, x, 2), w.data[:, :, None, :], b, lifted)
        squeeze(ctx, y, 2, out=out)
    elif x.rank == 4:
        conv_transpose2d(ctx, x, w.data, b, attrs, out=out)
    else:
        ctx.fail(f"{x.rank - 2}-D ConvTranspose is not supported (1-D and 2-D are)")


@dataclass
class TransposedAxis:
    """One spatial axis of a ConvTranspose. TRANSPOSE_CONV accepts an output size only if the forward
    convolution over it gives back the input size: with VALID, s*(in-1) + k .. s*(in-1) + k + s-1. The
    VALID result is made that size (`offset` = its size - s*in, independent of the input size) and ONNX's
    output is cropped from it: `begin` pixels before, `tail` after."""
    begin: int
    tail: int
    offset: int
    size: int | None  # ONNX's output size; None when the input size is known only at run time


def transpose_geometry(ctx, attrs: dict, sizes, kernel) -> list[TransposedAxis]:
    """Resolve pads, output_padding, output_shape and auto_pad as ONNX does, per spatial axis."""
    n = len(kernel)
    strides = list(attrs.get("strides") or [1] * n)
    dilations = list(attrs.get("dilations") or [1] * n)
    extra = list(attrs.get("output_padding") or [0] * n)
    auto_pad = attrs.get("auto_pad", "NOTSET")
    out_shape = list(attrs["output_shape"])[-n:] if attrs.get("output_shape") else None
    pads = list(attrs.get("pads") or [0] * (2 * n))
    axes = []
    for i in range(n):
        s, eff, size_in = strides[i], (kernel[i] - 1) * dilations[i] + 1, sizes[i]
        if out_shape is not None or auto_pad in ("SAME_UPPER", "SAME_LOWER"):
            if size_in is None:
                ctx.fail("output_shape / auto_pad SAME needs static spatial input sizes; give them with --input-shape")
            size = out_shape[i] if out_shape is not None else size_in * s
            total = max(s * (size_in - 1) + extra[i] + eff - size, 0)
            # The odd pixel goes after for SAME_UPPER, before otherwise (the spec; onnxruntime agrees).
            begin = total // 2 if auto_pad == "SAME_UPPER" else total - total // 2
            want = begin + size - s * size_in
        else:
            begin = 0 if auto_pad == "VALID" else pads[i]
            end = 0 if auto_pad == "VALID" else pads[n + i]
            size = None if size_in is None else s * (size_in - 1) + extra[i] + eff - begin - end
            want = extra[i] + eff - s - end
        offset = min(max(want, eff - s), eff - 1)
        if want > offset:
            ctx.fail(f"an output {want - offset} pixels longer than the transposed convolution reaches "
                     "is not supported")
        axes.append(TransposedAxis(begin, offset - want, offset, size))
    return axes


def conv_transpose2d(ctx, x: Tensor, w: np.ndarray, b: Tensor | None, attrs: dict, out=None) -> Tensor:
    """x: N, C, H, W; w: ONNX (C, O/group, kh, kw). TRANSPOSE_CONV places input pixel i at output
    i*s - pad + k for tap k, ONNX at i*s - pad + k*dilation: dilation becomes zero taps in the kernel,
    groups a block-diagonal kernel. When TFLite's SAME padding is ONNX's, one op does it all; otherwise
    a VALID result is cropped with strided slices."""
    group = int(attrs.get("group", 1))
    kernel = list(attrs.get("kernel_shape") or w.shape[2:])
    strides = list(attrs.get("strides") or [1, 1])
    axes = transpose_geometry(ctx, attrs, x.shape[2:], kernel)
    w = dilate_kernel(block_diagonal(w, group), list(attrs.get("dilations") or [1, 1]))
    cout = w.shape[1]
    filters = ctx.const(np.ascontiguousarray(w.transpose(1, 2, 3, 0)), hint="weights")
    bias = b if b is not None else ctx.const(np.zeros(cout, w.dtype), hint="bias")
    options = {"stride_h": strides[0], "stride_w": strides[1]}
    sizes = [a.size for a in axes]
    if all(same_padding_fits(a, n, k, s) for a, n, k, s in zip(axes, x.shape[2:], w.shape[2:], strides)):
        options["padding"] = "SAME"
        offsets = [a.size - s * n for a, n, s in zip(axes, x.shape[2:], strides)]
        spec = output_spec(ctx, x, sizes, cout, strides, offsets)
        return ctx.channels_last("TRANSPOSE_CONV", x, [bias], options, out, out_shape=(x.shape[0], cout, *sizes),
                                 first_inputs=[spec, filters])
    options["padding"] = "VALID"
    valid = [None if n is None else s * n + a.offset for a, n, s in zip(axes, x.shape[2:], strides)]
    spec = output_spec(ctx, x, valid, cout, strides, [a.offset for a in axes])
    crops = [(2 + i, a) for i, a in enumerate(axes) if a.begin or a.tail]
    y = ctx.channels_last("TRANSPOSE_CONV", x, [bias], options, None if crops else out,
                          out_shape=(x.shape[0], cout, *valid), first_inputs=[spec, filters])
    for k, (axis, a) in enumerate(crops):
        y = slice_axis(ctx, y, axis, a.begin, -a.tail if a.tail else None, out=out if k == len(crops) - 1 else None)
    return y


def same_padding_fits(axis: TransposedAxis, size_in, kernel: int, stride: int) -> bool:
    """TRANSPOSE_CONV SAME computes ONNX's output when its output size maps back to the input size
    (ceil(out / stride)) and the pad before of the forward SAME conv over the output is ONNX's."""
    if axis.size is None or -(-axis.size // stride) != size_in:
        return False
    total = max((-(-axis.size // stride) - 1) * stride + kernel - axis.size, 0)
    return axis.begin == total // 2


def dilate_kernel(w: np.ndarray, dilations) -> np.ndarray:
    if all(d == 1 for d in dilations):
        return w
    dh, dw = dilations
    kh, kw = w.shape[2:]
    out = np.zeros(w.shape[:2] + ((kh - 1) * dh + 1, (kw - 1) * dw + 1), w.dtype)
    out[:, :, ::dh, ::dw] = w
    return out


def output_spec(ctx, x: Tensor, sizes, cout: int, strides, offsets) -> Tensor:
    """TRANSPOSE_CONV's output_shape input (N, H, W, O): a constant when every size is known, else computed
    from the input's run-time shape as size = in * stride + offset."""
    if x.shape[0] is not None and None not in sizes:
        return ctx.const(np.array([x.shape[0], *sizes, cout], np.int32), hint="output_shape")
    dims = ctx.emit("SHAPE", [x], {"out_type": "INT32"}, shape=(4,), dtype="int32")
    nhwc = ctx.emit("GATHER", [dims, ctx.const(np.array([0, 2, 3, 1], np.int32), hint="nhwc")], {"axis": 0},
                    shape=(4,), dtype="int32")
    scaled = binary(ctx, "MUL", nhwc, ctx.const(np.array([1, *strides, 0], np.int32), hint="strides"))
    return binary(ctx, "ADD", scaled, ctx.const(np.array([0, *offsets, cout], np.int32), hint="offsets"))


LOWERINGS = {
    "Conv": lower_conv,
    "ConvTranspose": lower_conv_transpose,
}
