"""Normalization ops: L2_NORMALIZATION over the last axis."""
from __future__ import annotations

import numpy as np

from .activations import apply_fused

L2_EPSILON = np.float32(1e-6)  # TFLite's floor on the norm, so all-zero rows stay zero


def l2_normalization(op, x):
    norm = np.sqrt(np.sum(np.square(x), axis=-1, keepdims=True))
    return apply_fused(op, x / np.maximum(norm, L2_EPSILON))


OPS = {
    "L2_NORMALIZATION": l2_normalization,
}
