"""Bring a float model to the state the quantization passes start from: real float32 weights.

Models read from .tflite may store weights compressed (float16 or int8 behind DEQUANTIZE, sparse behind
DENSIFY); each such constant expansion is folded here, so every pass sees the float32 values it quantizes.
"""
from __future__ import annotations

from edgepress.convert.ir import Graph
from edgepress.convert.passes.edit import merge_sources
from edgepress.convert.reference import evaluate_op

EXPANSIONS = frozenset({"DEQUANTIZE", "DENSIFY"})


def expand_weights(graph: Graph) -> None:
    kept = []
    for op in graph.ops:
        src = op.inputs[0] if op.inputs else None
        if op.type in EXPANSIONS and src is not None and src.is_constant and not src.is_variable:
            (value,) = evaluate_op(op, [src.data])
            out = op.outputs[0]
            out.data, out.shape, out.dtype = value, value.shape, str(value.dtype)
            merge_sources(out.sources, op.sources)
        else:
            kept.append(op)
    graph.ops = kept
