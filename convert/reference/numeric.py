"""Helpers several op families share: TFLite's rounding, an op's output dtype, axis normalization."""
from __future__ import annotations

import numpy as np

from edgepress.errors import EdgepressError


def round_half_away(x: np.ndarray) -> np.ndarray:
    """std::round (TfLiteRound): ties away from zero. floor/frac is exact in binary floating point, unlike
    floor(x + 0.5), which rounds 0.49999997 up in float32."""
    a = np.abs(x)
    down = np.floor(a)
    return np.copysign(np.where(a - down >= 0.5, down + 1, down), x)


def out_dtype(op, index: int = 0) -> np.dtype:
    return np.dtype(op.outputs[index].dtype)


def axis_of(op, axis: int, rank: int) -> int:
    """A possibly negative axis as a positive one; an error naming the op when it is out of range."""
    if not -rank <= axis < max(rank, 1):
        raise EdgepressError(f"{op.type} ({op.label}): axis {axis} out of range for rank {rank}")
    return axis % max(rank, 1)
