"""Cost model: multiply-accumulates of weighted ops from tensor shapes, one element operation per output
element for every other op; FLOPs = 2 x MACs + element ops. `dims` overrides one dim of tensors
(id(tensor) -> (axis, size)), so a pruning plan is costed before anything is cut."""
from __future__ import annotations

import math

from edgepress.convert.ir import Graph, Op


def _shape(t, dims) -> tuple:
    shape = tuple(1 if d is None else d for d in t.shape)
    if dims is not None and id(t) in dims:
        axis, size = dims[id(t)]
        shape = shape[:axis] + (size,) + shape[axis + 1:]
    return shape


def _conv(op: Op, dims) -> int:
    x, w, y = op.inputs[0], op.inputs[1], op.outputs[0]
    groups = max(x.shape[-1] // w.shape[3], 1)
    return math.prod(_shape(y, dims)) * w.shape[1] * w.shape[2] * (_shape(x, dims)[-1] // groups)


def _depthwise(op: Op, dims) -> int:
    w = op.inputs[1]
    return math.prod(_shape(op.outputs[0], dims)) * w.shape[1] * w.shape[2]


def _fully_connected(op: Op, dims) -> int:
    return math.prod(_shape(op.inputs[0], dims)) * _shape(op.outputs[0], dims)[-1]


def _transpose_conv(op: Op, dims) -> int:
    w = op.inputs[1]
    return math.prod(_shape(op.inputs[2], dims)) * w.shape[1] * w.shape[2] * _shape(op.outputs[0], dims)[-1]


def _batch_matmul(op: Op, dims) -> int:
    x = _shape(op.inputs[0], dims)
    k = x[-2] if op.options.get("adj_x") else x[-1]
    return math.prod(_shape(op.outputs[0], dims)) * k


MACS = {"CONV_2D": _conv, "DEPTHWISE_CONV_2D": _depthwise, "FULLY_CONNECTED": _fully_connected,
        "TRANSPOSE_CONV": _transpose_conv, "BATCH_MATMUL": _batch_matmul}


def op_macs(op: Op, dims=None) -> int:
    fn = MACS.get(op.type)
    return fn(op, dims) if fn is not None else 0


def op_flops(op: Op, dims=None) -> int:
    """FLOPs per inference; an op of constants only (DENSIFY, DEQUANTIZE of weights) runs once, at load."""
    if all(t is None or t.is_constant for t in op.inputs):
        return 0
    if op.type in MACS:
        return 2 * op_macs(op, dims)
    return sum(math.prod(_shape(t, dims)) for t in op.outputs)


def graph_flops(graph: Graph, dims=None) -> int:
    return sum(op_flops(op, dims) for op in graph.ops)


def op_params(op: Op) -> int:
    """Elements of the op's constant inputs (weights, biases, per-channel constants)."""
    return sum(t.data.size for t in op.inputs if t is not None and t.is_constant and t.dtype == "float32")
