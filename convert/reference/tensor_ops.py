"""Ops that build, join, split, pad, convert or select tensors."""
from __future__ import annotations

import numpy as np

from .activations import apply_fused
from .numeric import axis_of, out_dtype


def concatenation(op, *xs):
    return apply_fused(op, np.concatenate(xs, axis=axis_of(op, op.options["axis"], xs[0].ndim)))


def split(op, axis, x):
    return tuple(np.split(x, op.options["num_splits"], axis=axis_of(op, int(np.ravel(axis)[0]), x.ndim)))


def split_v(op, x, size_splits, axis):
    """One size may be -1: whatever the others leave."""
    a = axis_of(op, int(np.ravel(axis)[0]), x.ndim)
    sizes = [int(s) for s in np.ravel(size_splits)]
    if -1 in sizes:
        sizes[sizes.index(-1)] = x.shape[a] - (sum(sizes) + 1)
    return tuple(np.split(x, np.cumsum(sizes)[:-1], axis=a))


def _pad_zero(op):
    # Quantized tensors pad with the value that stands for real 0.
    q = op.outputs[0].quant
    return int(q.zero_point[0]) if q is not None and out_dtype(op).kind in "iu" else 0


def pad(op, x, paddings, value=None):
    fill = _pad_zero(op) if value is None else np.ravel(value)[0]
    return np.pad(x, np.asarray(paddings, np.int64).reshape(x.ndim, 2), constant_values=fill)


def mirror_pad(op, x, paddings):
    """REFLECT leaves the edge out of the mirror (numpy 'reflect'), SYMMETRIC repeats it."""
    mode = {"REFLECT": "reflect", "SYMMETRIC": "symmetric"}[op.options["mode"]]
    return np.pad(x, np.asarray(paddings, np.int64).reshape(x.ndim, 2), mode=mode)


def range_(op, start, limit, delta):
    """TFLite accumulates `value += delta`, so float ranges are running sums in the output type."""
    start, limit, delta = (np.ravel(v)[0] for v in (start, limit, delta))
    dtype = out_dtype(op)
    if dtype.kind in "iu":
        count = max(0, (abs(int(limit) - int(start)) + abs(int(delta)) - 1) // abs(int(delta)))
        count = count if (limit - start) * delta > 0 else 0
    else:
        count = int(np.ceil(np.abs((dtype.type(limit) - dtype.type(start)) / dtype.type(delta))))
    steps = np.full(count, delta, dtype=dtype)
    if count:
        steps[0] = start
    return np.cumsum(steps, dtype=dtype)


def select(op, cond, x, y):
    """SELECT (v1) also takes a vector condition choosing whole rows along the first axis."""
    if cond.ndim == 1 and x.ndim > 1:
        cond = cond.reshape((-1,) + (1,) * (x.ndim - 1))
    return np.where(cond, x, y)


OPS = {
    "CONCATENATION": concatenation,
    "SPLIT": split,
    "SPLIT_V": split_v,
    "PAD": pad,
    "PADV2": pad,
    "MIRROR_PAD": mirror_pad,
    "FILL": lambda op, dims, value: np.full([int(d) for d in dims], np.ravel(value)[0], dtype=value.dtype),
    "RANGE": range_,
    "CAST": lambda op, x: x.astype(out_dtype(op)),
    "SELECT": select,
    "SELECT_V2": lambda op, cond, x, y: np.where(cond, x, y),
    "ZEROS_LIKE": lambda op, x: np.zeros_like(x),
}
