"""Ops that only rearrange or describe a tensor's shape: RESHAPE, SQUEEZE, EXPAND_DIMS, TRANSPOSE, SHAPE,
BROADCAST_TO, TILE, DEPTH_TO_SPACE and SPACE_TO_DEPTH."""
from __future__ import annotations

import numpy as np

from .numeric import axis_of, out_dtype


def new_shape(op, shape) -> list[int]:
    """The target shape: the shape input when it is a vector, else the options' new_shape ([0] meaning a
    scalar in old models), else the output tensor's static shape."""
    if shape is not None and np.ndim(shape) == 1:
        return [int(d) for d in shape]
    dims = list(op.options.get("new_shape") or [])
    if dims == [0]:
        return []
    return dims or list(op.outputs[0].shape)


def reshape(op, x, shape=None):
    return x.reshape(new_shape(op, shape))


def squeeze(op, x):
    dims = op.options.get("squeeze_dims") or []
    axes = [axis_of(op, int(d), x.ndim) for d in dims] or [i for i, d in enumerate(x.shape) if d == 1]
    return np.squeeze(x, axis=tuple(axes))


def expand_dims(op, x, axis):
    return np.expand_dims(x, axis_of(op, int(np.ravel(axis)[0]), x.ndim + 1))


def depth_to_space(op, x):
    """DCR order: output (h*b + i, w*b + j, c) reads input channel (i*b + j) * C_out + c."""
    b = op.options["block_size"]
    n, h, w, c = x.shape
    return x.reshape(n, h, w, b, b, c // (b * b)).transpose(0, 1, 3, 2, 4, 5).reshape(n, h * b, w * b, c // (b * b))


def space_to_depth(op, x):
    b = op.options["block_size"]
    n, h, w, c = x.shape
    return x.reshape(n, h // b, b, w // b, b, c).transpose(0, 1, 3, 2, 4, 5).reshape(n, h // b, w // b, b * b * c)


OPS = {
    "RESHAPE": reshape,
    "SQUEEZE": squeeze,
    "EXPAND_DIMS": expand_dims,
    "TRANSPOSE": lambda op, x, perm: np.transpose(x, [int(p) for p in np.ravel(perm)]),
    "SHAPE": lambda op, x: np.array(x.shape, dtype=out_dtype(op)),
    "BROADCAST_TO": lambda op, x, shape: np.broadcast_to(x, [int(d) for d in shape]).copy(),
    "TILE": lambda op, x, multiples: np.tile(x, [int(m) for m in multiples]),
    "DEPTH_TO_SPACE": depth_to_space,
    "SPACE_TO_DEPTH": space_to_depth,
}
