"""2-D pooling on NHWC: MAX_POOL_2D and AVERAGE_POOL_2D (the average counts only in-bounds pixels)."""
from __future__ import annotations

import numpy as np

from .activations import apply_fused
from .window import patches


def _windows(op, x, pad_value):
    o = op.options
    return patches(x, (o["filter_height"], o["filter_width"]), (o["stride_h"], o["stride_w"]), (1, 1),
                   o["padding"], pad_value)


def max_pool_2d(op, x):
    return apply_fused(op, _windows(op, x, -np.inf).max(axis=(3, 4)))


def average_pool_2d(op, x):
    total = _windows(op, x, 0).sum(axis=(3, 4), dtype=np.float32)
    count = _windows(op, np.ones((1,) + x.shape[1:3] + (1,), np.float32), 0).sum(axis=(3, 4))
    return apply_fused(op, total / count)


OPS = {
    "MAX_POOL_2D": max_pool_2d,
    "AVERAGE_POOL_2D": average_pool_2d,
}
