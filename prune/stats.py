"""Activation statistics from calibration samples: the mean square of every channel (last axis) of the
tensors that weighted ops read. They weigh channel importance and activation-aware sparsity (|W| x ||X||)."""
from __future__ import annotations

import numpy as np

from edgepress.convert.ir import Graph

from .stream import Walk

WEIGHTED_DATA = {"CONV_2D": 0, "DEPTHWISE_CONV_2D": 0, "FULLY_CONNECTED": 0, "TRANSPOSE_CONV": 2}


def channel_energy(graph: Graph, feeds: list) -> dict:
    """Tensor name -> E[x^2] per channel of every runtime tensor a weighted op reads, over all samples."""
    wanted = {i: op.inputs[WEIGHTED_DATA[op.type]] for i, op in enumerate(graph.ops) if op.type in WEIGHTED_DATA}
    sums: dict[str, np.ndarray] = {}
    counts: dict[str, int] = {}

    def visit(i, walk):
        t = wanted.get(i)
        if t is None or t.is_constant or t.name in sums or not t.rank:
            return
        values = walk.fetch(0, t)
        sums[t.name] = sum(np.square(v.astype(np.float64)).reshape(-1, v.shape[-1]).sum(0) for v in values)
        counts[t.name] = sum(v.size // max(v.shape[-1], 1) for v in values)

    Walk([graph], feeds).run(visit)
    return {name: sums[name] / max(counts[name], 1) for name in sums}
