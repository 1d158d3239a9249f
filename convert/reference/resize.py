"""Image resizing on NHWC with TFLite's coordinate rules, computed in float32 as its kernels do (the rules
decide which pixel a coordinate falls on, so float64 would disagree exactly at the boundaries)."""
from __future__ import annotations

import numpy as np

from .numeric import round_half_away


def _scale(in_size: int, out_size: int, align_corners: bool) -> np.float32:
    if align_corners and out_size > 1:
        return np.float32(in_size - 1) / np.float32(out_size - 1)
    return np.float32(in_size) / np.float32(out_size)


def _bilinear_axis(in_size, out_size, align_corners, half_pixel):
    """Lower/upper source index and the weight of the upper one, per output index.

    The weight is measured from the clamped lower index, as in TFLite's ComputeInterpolationValues."""
    scale = _scale(in_size, out_size, align_corners)
    pos = np.arange(out_size, dtype=np.float32)
    src = (pos + np.float32(0.5)) * scale - np.float32(0.5) if half_pixel else pos * scale
    lo = np.maximum(np.floor(src), 0).astype(np.int64)
    hi = np.minimum(np.ceil(src).astype(np.int64), in_size - 1)
    return lo, hi, (src - lo).astype(np.float32)


def resize_bilinear(op, x, size):
    ac, hp = op.options["align_corners"], op.options["half_pixel_centers"]
    y0, y1, dy = _bilinear_axis(x.shape[1], int(size[0]), ac, hp)
    x0, x1, dx = _bilinear_axis(x.shape[2], int(size[1]), ac, hp)
    dy, dx = dy[None, :, None, None], dx[None, None, :, None]
    rows = x[:, y0] * (1 - dy) + x[:, y1] * dy  # separable: blend rows, then columns
    return rows[:, :, x0] * (1 - dx) + rows[:, :, x1] * dx


def _nearest_axis(in_size, out_size, align_corners, half_pixel):
    scale = _scale(in_size, out_size, align_corners)
    src = (np.arange(out_size, dtype=np.float32) + np.float32(0.5 if half_pixel else 0.0)) * scale
    idx = np.minimum((round_half_away(src) if align_corners else np.floor(src)).astype(np.int64), in_size - 1)
    return np.maximum(idx, 0) if half_pixel else idx


def resize_nearest_neighbor(op, x, size):
    ac, hp = op.options["align_corners"], op.options["half_pixel_centers"]
    rows = _nearest_axis(x.shape[1], int(size[0]), ac, hp)
    cols = _nearest_axis(x.shape[2], int(size[1]), ac, hp)
    return x[:, rows][:, :, cols]


OPS = {
    "RESIZE_BILINEAR": resize_bilinear,
    "RESIZE_NEAREST_NEIGHBOR": resize_nearest_neighbor,
}
