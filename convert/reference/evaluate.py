"""Run an IR graph op by op with the reference functions."""
from __future__ import annotations

import numpy as np

from edgepress.errors import EdgepressError

from ..ir import Graph, Op


def evaluate_op(op: Op, inputs: list) -> list[np.ndarray]:
    """Run one op on NumPy inputs; returns one array per op output, cast to the output tensors' dtypes."""
    from .quantized import quantized_reference
    from .registry import REFERENCE
    fn = quantized_reference(op) or REFERENCE.get(op.type)
    if fn is None:
        raise EdgepressError(f"no reference implementation for {op.type} (op {op.label})")
    result = fn(op, *inputs)
    results = list(result) if isinstance(result, (tuple, list)) else [result]
    return [np.asarray(r).astype(t.dtype, copy=False) if t.dtype != "string" else np.asarray(r)
            for r, t in zip(results, op.outputs)]


def evaluate(graph: Graph, feeds: dict, keep_intermediates: bool = False) -> dict:
    """Evaluate `graph` on `feeds` (input name -> array).

    Returns output name -> array; with keep_intermediates, every tensor's value by name, which is what
    calibration and per-layer reports compare against.
    """
    values: dict[int, np.ndarray] = {}
    for t in graph.inputs:
        if t.name not in feeds:
            raise EdgepressError(f"missing value for input '{t.name}' (inputs: {[i.name for i in graph.inputs]})")
        values[id(t)] = np.asarray(feeds[t.name]).astype(t.dtype, copy=False)
    named = {}
    for op in graph.ops:
        args = []
        for t in op.inputs:
            if t is None:
                args.append(None)
            elif id(t) in values:
                args.append(values[id(t)])
            elif t.data is not None:
                args.append(t.data)
            else:
                raise EdgepressError(f"op {op.type} ({op.label}) reads '{t.name}' before it is computed")
        for t, v in zip(op.outputs, evaluate_op(op, args)):
            values[id(t)] = v
            if keep_intermediates:
                named[t.name] = v
    for t in graph.outputs:
        named[t.name] = values[id(t)] if id(t) in values else t.data
    return named
