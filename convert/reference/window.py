"""Sliding-window geometry shared by convolutions and pooling: TFLite's padding rule and patch views."""
from __future__ import annotations

import numpy as np


def out_size_and_pad(size: int, kernel: int, stride: int, dilation: int, padding: str) -> tuple[int, int, int]:
    """(output size, pad before, pad after) along one spatial axis.

    TFLite: SAME gives ceil(size / stride) outputs, VALID (size - effective_kernel) // stride + 1; the total
    padding the SAME outputs need is split with the odd pixel after (ComputePaddingWithOffset)."""
    eff = (kernel - 1) * dilation + 1
    out = -(-size // stride) if padding == "SAME" else max((size - eff + stride) // stride, 0)
    total = max((out - 1) * stride + eff - size, 0) if padding == "SAME" else 0
    return out, total // 2, total - total // 2


def patches(x: np.ndarray, kernel: tuple, stride: tuple, dilation: tuple, padding: str,
            pad_value=0.0) -> np.ndarray:
    """A read-only (N, OH, OW, KH, KW, C) view of the windows of NHWC `x`, padded with `pad_value`."""
    n, h, w, c = x.shape
    (oh, top, bottom), (ow, left, right) = (out_size_and_pad(h, kernel[0], stride[0], dilation[0], padding),
                                            out_size_and_pad(w, kernel[1], stride[1], dilation[1], padding))
    xp = np.pad(x, ((0, 0), (top, bottom), (left, right), (0, 0)), constant_values=pad_value)
    sn, sh, sw, sc = xp.strides
    return np.lib.stride_tricks.as_strided(
        xp, (n, oh, ow, kernel[0], kernel[1], c),
        (sn, sh * stride[0], sw * stride[1], sh * dilation[0], sw * dilation[1], sc), writeable=False)
