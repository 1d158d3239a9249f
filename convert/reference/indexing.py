"""Ops that pick elements by position: SLICE, STRIDED_SLICE, GATHER and GATHER_ND."""
from __future__ import annotations

import numpy as np

from .numeric import axis_of


def slice_(op, x, begin, size):
    """size -1 takes everything from begin to the end of the axis."""
    idx = tuple(slice(int(b), x.shape[i] if int(s) == -1 else int(b) + int(s))
                for i, (b, s) in enumerate(zip(np.ravel(begin), np.ravel(size))))
    return x[idx]


def _bit(mask: int, i: int) -> bool:
    return bool(mask >> i & 1)


def _dense_spec(op, rank: int, count: int):
    """Expand the sparse slice spec (ellipsis, new axes) into one entry per axis of the input with the new
    axes inserted, as TFLite's BuildStridedSliceParams does.

    Returns (kind, spec index) pairs, kind being 'full' (whole axis), 'new' (inserted size-1 axis) or 'spec'."""
    o = op.options
    new_axes = sum(1 for i in range(count) if not _bit(o["ellipsis_mask"], i) and _bit(o["new_axis_mask"], i))
    dims = rank + new_axes
    entries, i, expanded = [], 0, 0
    while i < dims:
        if _bit(o["ellipsis_mask"], i):
            end = max(i + 1, min(i + 1 + new_axes + rank - count, dims))
            expanded = end - i - 1
            entries += [("full", None)] * (end - i)
            i = end
            continue
        spec = i - expanded
        if _bit(o["new_axis_mask"], spec):
            entries.append(("new", spec))
        elif spec >= count:
            entries.append(("full", None))
        else:
            entries.append(("spec", spec))
        i += 1
    return entries


def _start_end(op, size: int, b: int, e: int, stride: int, spec: int) -> tuple[int, int]:
    """TFLite's StridedSliceStartForAxis / EndForAxis: Python-like clamping; with `offset`, end is a length
    counted from the resolved start; a shrunk axis takes the single element at start."""
    o = op.options
    lo, hi = (0, size) if stride > 0 else (-1, size - 1)
    start = min(max(b + size if b < 0 else b, lo), hi)
    if _bit(o["begin_mask"], spec):
        start = 0 if stride > 0 else size - 1
    if _bit(o["shrink_axis_mask"], spec):
        return start, start + 1
    end = e + start if o["offset"] else e
    end = min(max(end + size if end < 0 else end, lo), hi)
    if _bit(o["end_mask"], spec):
        end = size if stride > 0 else -1
    return start, end


def strided_slice(op, x, begin, end, strides):
    begin, end, strides = (np.ravel(v).astype(np.int64) for v in (begin, end, strides))
    entries = _dense_spec(op, x.ndim, len(begin))
    x = x.reshape(_effective_shape(x.shape, entries))
    shrink = []
    for axis, (kind, spec) in enumerate(entries):
        if kind != "spec":
            continue
        start, stop = _start_end(op, x.shape[axis], int(begin[spec]), int(end[spec]), int(strides[spec]), spec)
        x = np.take(x, np.arange(start, stop, strides[spec]), axis=axis)
        if _bit(op.options["shrink_axis_mask"], spec):
            shrink.append(axis)
    return np.squeeze(x, axis=tuple(shrink)) if shrink else x


def _effective_shape(shape, entries):
    dims, it = [], iter(shape)
    for kind, _ in entries:
        dims.append(1 if kind == "new" else next(it))
    return dims


def gather(op, params, indices):
    """batch_dims leading axes are shared by params and indices: each batch gathers from its own slice."""
    axis = axis_of(op, op.options["axis"], params.ndim)
    bd = op.options["batch_dims"]
    bd = bd + indices.ndim if bd < 0 else bd
    if bd == 0:
        return np.take(params, indices, axis=axis)
    batch = params.shape[:bd]
    p = params.reshape((-1,) + params.shape[bd:])
    i = indices.reshape((-1,) + indices.shape[bd:])
    out = np.stack([np.take(pb, ib, axis=axis - bd) for pb, ib in zip(p, i)])
    return out.reshape(batch + out.shape[1:])


def gather_nd(op, params, indices):
    return params[tuple(np.moveaxis(indices, -1, 0))]


OPS = {
    "SLICE": slice_,
    "STRIDED_SLICE": strided_slice,
    "GATHER": gather,
    "GATHER_ND": gather_nd,
}
