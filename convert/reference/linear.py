"""Matrix products: FULLY_CONNECTED (weights (out, in)) and BATCH_MATMUL (adjoints, broadcast batch dims)."""
from __future__ import annotations

import numpy as np

from .activations import apply_fused


def fully_connected(op, x, w, bias=None):
    """Every input row of `in` values is one batch item; keep_num_dims keeps the input's leading dims."""
    y = x.reshape(-1, w.shape[1]) @ w.T
    if bias is not None:
        y = y + bias
    y = apply_fused(op, y)
    return y.reshape(x.shape[:-1] + (w.shape[0],)) if op.options["keep_num_dims"] else y


def batch_matmul(op, x, y):
    if op.options["adj_x"]:
        x = np.swapaxes(x, -1, -2)
    if op.options["adj_y"]:
        y = np.swapaxes(y, -1, -2)
    return np.matmul(x, y)


OPS = {
    "FULLY_CONNECTED": fully_connected,
    "BATCH_MATMUL": batch_matmul,
}
