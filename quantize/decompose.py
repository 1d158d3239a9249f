"""Float ops rewritten, before calibration, as ops that have the integer kernels a target runs (targets.py).

HARD_SWISH(x) = x * RELU6(x + 3) / 6 becomes ADD(x, 3) with a fused RELU6, a MUL by 1/6 and a MUL by x. The
gate RELU6(x + 3) / 6 lies in [0, 1] and is quantized on a grid 1/6 of the RELU6's, so the MUL by 1/6 adds no
rounding of its own; the rewrite costs one more rounding, of the gate, than a fused kernel. In PP-OCRv4 det,
int8 HARD_SWISH cut litert's XNNPACK graph into 28 partitions around builtin kernels (int8 1.4x slower than
float32); rewritten, the graph is one partition as in float and int8 is 0.8x float32.
Rewriting before calibration gives every new tensor a calibrated range. An op kept float is left whole.
"""
from __future__ import annotations

import copy

import numpy as np

from edgepress.convert.ir import Graph, Model, Op, Tensor
from edgepress.convert.passes.edit import Names


def hard_swish(op: Op, names: Names) -> list[Op]:
    (x,), (y,) = op.inputs, op.outputs

    def tensor(suffix: str) -> Tensor:
        return Tensor(names(f"{y.name}/{suffix}"), y.shape, y.dtype, sources=list(op.sources))

    def constant(suffix: str, value: float) -> Tensor:
        return Tensor.constant(names(f"{y.name}/{suffix}"), np.array(value, np.float32), sources=op.sources)

    relu6, gate = tensor("relu6"), tensor("gate")
    if x.qdq_range is not None:  # a QDQ source's range on x decides theirs too (quantize/qdq.py)
        lo, hi = (min(max(v + 3.0, 0.0), 6.0) for v in x.qdq_range)
        relu6.qdq_range, gate.qdq_range = (lo, hi), (lo / 6, hi / 6)
    return [Op("ADD", [x, constant("three", 3.0)], [relu6], {"fused_activation_function": "RELU6"},
               sources=list(op.sources)),
            Op("MUL", [relu6, constant("sixth", 1 / 6)], [gate], sources=list(op.sources)),
            Op("MUL", [x, gate], [y], sources=list(op.sources))]


DECOMPOSITIONS = {"HARD_SWISH": hard_swish}


def decompose(model: Model, op_types: frozenset, keep) -> Model:
    """A copy of `model` with every float op of `op_types` that keep(op) does not select decomposed
    (the model itself when there is none)."""
    if not any(wanted(op, op_types, keep) for op in model.ops()):
        return model
    model = copy.deepcopy(model)
    for graph in model.graphs:
        rewrite(graph, op_types, keep)
    return model


def wanted(op: Op, op_types: frozenset, keep) -> bool:
    return op.type in op_types and all(t.dtype == "float32" for t in (*op.inputs, *op.outputs)) and not keep(op)


def rewrite(graph: Graph, op_types: frozenset, keep) -> None:
    names = Names(graph)
    ops = []
    for op in graph.ops:
        ops.extend(DECOMPOSITIONS[op.type](op, names) if wanted(op, op_types, keep) else [op])
    graph.ops = ops
