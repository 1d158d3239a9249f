"""Helpers shared by the lowering families: sliding-window geometry (ONNX pads vs TFLite SAME/VALID),
explicit padding, and small shape ops that fold constants on the spot.

Window geometry is per spatial axis, in ONNX order (the axes after N and C).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..ir import Tensor


@dataclass
class Window:
    kernel: list
    strides: list
    dilations: list
    begins: list  # pad before, per spatial axis
    ends: list  # pad after

    @property
    def effective(self) -> list:
        return [(k - 1) * d + 1 for k, d in zip(self.kernel, self.dilations)]

    @property
    def padded(self) -> bool:
        return any(self.begins) or any(self.ends)

    def out_sizes(self, sizes) -> list:
        """floor((in + pads - effective kernel) / stride) + 1; None where the input size is unknown."""
        return [None if n is None else (n + b + e - k) // s + 1
                for n, b, e, k, s in zip(sizes, self.begins, self.ends, self.effective, self.strides)]


def same_pads(size: int, kernel: int, stride: int, dilation: int) -> tuple[int, int]:
    """TFLite's SAME padding (ceil(size / stride) outputs, the odd pixel after) = ONNX SAME_UPPER."""
    eff = (kernel - 1) * dilation + 1
    total = max((-(-size // stride) - 1) * stride + eff - size, 0)
    return total // 2, total - total // 2


def window(ctx, attrs: dict, sizes, kernel) -> Window:
    """Resolve strides, dilations, pads and auto_pad. SAME_* with an unknown input size keeps None pads,
    which only tflite_padding can use (TFLite pads SAME at run time)."""
    n = len(kernel)
    strides = list(attrs.get("strides") or [1] * n)
    dilations = list(attrs.get("dilations") or [1] * n)
    auto_pad = attrs.get("auto_pad", "NOTSET")
    if auto_pad in ("SAME_UPPER", "SAME_LOWER"):
        begins, ends = [], []
        for size, k, s, d in zip(sizes, kernel, strides, dilations):
            if size is None:
                if auto_pad == "SAME_LOWER":
                    ctx.fail("auto_pad=SAME_LOWER needs static spatial input sizes; give them with --input-shape")
                begins.append(None)
                ends.append(None)
                continue
            lo, hi = same_pads(size, k, s, d)
            lo, hi = (hi, lo) if auto_pad == "SAME_LOWER" else (lo, hi)
            begins.append(lo)
            ends.append(hi)
        return Window(list(kernel), strides, dilations, begins, ends)
    pads = [0] * (2 * n) if auto_pad == "VALID" else list(attrs.get("pads") or [0] * (2 * n))
    return Window(list(kernel), strides, dilations, pads[:n], pads[n:])


def tflite_padding(win: Window, sizes) -> str | None:
    """'VALID' or 'SAME' when TFLite's own padding computes exactly these pads, else None (pad explicitly)."""
    if not any(b is None for b in win.begins) and not win.padded:
        return "VALID"
    for size, k, s, d, b, e in zip(sizes, win.kernel, win.strides, win.dilations, win.begins, win.ends):
        if b is None:  # SAME_UPPER on a size known only at run time
            continue
        if size is None and s != 1:  # SAME's pads then depend on the size
            return None
        # With stride 1, SAME pads the effective kernel size - 1 whatever the input size.
        if (b, e) != same_pads(size if size is not None else 1, k, s, d):
            return None
    return "SAME"


def pad_spatial(ctx, x: Tensor, begins, ends, value=None, out=None) -> Tensor:
    """PAD (zeros) or PADV2 (`value`) of the trailing spatial axes of an N, C, spatial... tensor."""
    lead = x.rank - len(begins)
    paddings = np.array([[0, 0]] * lead + [[b, e] for b, e in zip(begins, ends)], np.int32)
    shape = tuple(None if n is None else n + b + e for n, b, e in
                  zip(x.shape, [0] * lead + list(begins), [0] * lead + list(ends)))
    inputs = [x, ctx.const(paddings, hint="paddings")]
    if value is None:
        return ctx.emit("PAD", inputs, out=out, shape=shape)
    return ctx.emit("PADV2", [*inputs, ctx.const(np.array(value, x.dtype), hint="pad_value")], out=out,
                    shape=shape)


def permute(ctx, t: Tensor, perm, hint: str = "weights") -> Tensor:
    """t transposed: a new constant for constants (weights), else a TRANSPOSE op."""
    if t.data is not None:
        return ctx.const(np.ascontiguousarray(np.transpose(t.data, perm)), hint=hint)
    return ctx.transpose(t, perm)


def reshape_to(ctx, x: Tensor, shape, out=None) -> Tensor:
    """RESHAPE to `shape` (at most one None, written -1)."""
    shape = tuple(shape)
    if sum(d is None for d in shape) > 1:
        ctx.fail(f"cannot reshape '{x.name}' {list(x.shape)} with more than one unknown dimension; give static "
                 "input shapes with --input-shape")
    spec = ctx.const(np.array([-1 if d is None else d for d in shape], np.int32), hint="shape")
    return ctx.emit("RESHAPE", [x, spec], out=out, shape=shape)


def expand_dims(ctx, x: Tensor, axis: int, out=None) -> Tensor:
    shape = x.shape[:axis] + (1,) + x.shape[axis:]
    return ctx.emit("EXPAND_DIMS", [x, ctx.const(np.array(axis, np.int32), hint="axis")], out=out, shape=shape)


def squeeze(ctx, x: Tensor, axis: int, out=None) -> Tensor:
    shape = x.shape[:axis] + x.shape[axis + 1:]
    return ctx.emit("SQUEEZE", [x], {"squeeze_dims": [axis]}, out=out, shape=shape)


def slice_axis(ctx, x: Tensor, axis: int, begin: int, end: int | None, stride: int = 1, out=None) -> Tensor:
    """x[..., begin:end:stride, ...] along one axis (end None = to the end) with STRIDED_SLICE."""
    rank = x.rank
    begins = np.zeros(rank, np.int32)
    ends = np.zeros(rank, np.int32)
    strides = np.ones(rank, np.int32)
    begins[axis] = begin
    ends[axis] = 0 if end is None else end
    strides[axis] = stride
    keep_all = sum(1 << i for i in range(rank) if i != axis)
    size = x.shape[axis]
    dim = None
    if size is not None:
        stop = size if end is None else min(end, size) if end >= 0 else size + end
        dim = max(0, -(-(stop - begin) // stride))
    return ctx.emit("STRIDED_SLICE", [x, ctx.const(begins, hint="begin"), ctx.const(ends, hint="end"),
                                      ctx.const(strides, hint="strides")],
                    {"begin_mask": keep_all, "end_mask": keep_all | (1 << axis if end is None else 0)},
                    out=out, shape=x.shape[:axis] + (dim,) + x.shape[axis + 1:])
