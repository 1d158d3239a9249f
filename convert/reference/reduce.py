"""Reductions over an axes tensor (MEAN, SUM, REDUCE_*), ARG_MAX/ARG_MIN and CUMSUM."""
from __future__ import annotations

import numpy as np

from .numeric import axis_of, out_dtype


def _axes(op, x, axes):
    return tuple(sorted({axis_of(op, int(a), x.ndim) for a in np.ravel(axes)}))


def _reducer(fn):
    def reduce(op, x, axes):
        return fn(x, axis=_axes(op, x, axes), keepdims=op.options["keep_dims"])
    return reduce


def _mean(x, axis, keepdims):
    # Integer MEAN divides the integer sum (truncating), as TFLite's reference does.
    if x.dtype.kind in "iu":
        count = int(np.prod([x.shape[a] for a in axis]))
        s = np.sum(x, axis=axis, keepdims=keepdims, dtype=np.int64)
        return np.where(s < 0, -(-s // count), s // count) if count else s
    return np.mean(x, axis=axis, keepdims=keepdims)


def _arg(fn):
    def arg(op, x, axis):
        return fn(x, axis=axis_of(op, int(np.ravel(axis)[0]), x.ndim)).astype(out_dtype(op))
    return arg


def cumsum(op, x, axis):
    a = axis_of(op, int(np.ravel(axis)[0]), x.ndim)
    if op.options["reverse"]:
        x = np.flip(x, a)
    y = np.cumsum(x, axis=a, dtype=x.dtype)
    if op.options["exclusive"]:
        # Each output is the sum of the elements strictly before it: the inclusive sums shifted by one.
        y = np.concatenate([np.zeros_like(np.take(y, [0], a)), np.take(y, range(x.shape[a] - 1), a)], axis=a)
    return np.flip(y, a) if op.options["reverse"] else y


OPS = {
    "MEAN": _reducer(_mean),
    "SUM": _reducer(np.sum),
    "REDUCE_MAX": _reducer(np.max),
    "REDUCE_MIN": _reducer(np.min),
    "REDUCE_PROD": _reducer(np.prod),
    "ARG_MAX": _arg(np.argmax),
    "ARG_MIN": _arg(np.argmin),
    "CUMSUM": cumsum,
}
