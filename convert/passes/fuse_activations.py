"""Fuse activations into the op that produces their input.

First, clamps are made canonical: MAXIMUM/MINIMUM by scalar constants (how Clip and ReLU6 arrive from ONNX)
and chains of clamps become one RELU, RELU6 or RELU_N1_TO_1 op. Then an activation whose input comes from
an op with a fused_activation_function of NONE, which nothing else reads, is fused into that op, also
across one reshape in between (an elementwise activation commutes with it).

Only clamping activations are fused. TANH is a valid enum value, but TFLite's kernels derive an output
range from the fused activation and ignore TANH, so fusing it would change results; CONCATENATION and
L2_NORMALIZATION have the field but their TFLite kernels ignore or reject anything but NONE.
"""
from __future__ import annotations

import math

from ..ir import Op, Tensor
from .edit import Uses, graphs_of, hand_over, merge_sources, source_of

# (low, high) of a clamp -> the activation op computing it (and the fused_activation_function value)
CLAMPS = {(0.0, math.inf): "RELU", (0.0, 6.0): "RELU6", (-1.0, 1.0): "RELU_N1_TO_1"}
ACTIVATION_RANGE = {name: bounds for bounds, name in CLAMPS.items()}
# Ops whose TFLite kernels apply a fused clamp (checked against ai-edge-litert and tflite-runtime 2.14).
PRODUCERS = frozenset({"CONV_2D", "DEPTHWISE_CONV_2D", "TRANSPOSE_CONV", "FULLY_CONNECTED", "ADD", "SUB", "MUL",
                       "DIV", "AVERAGE_POOL_2D", "MAX_POOL_2D", "L2_POOL_2D"})
FLOATS = ("float32", "float16")


def run(model_or_graph) -> bool:
    changed = False
    for graph in graphs_of(model_or_graph):
        uses = Uses(graph)
        for op in list(graph.ops):
            if uses.alive(op):
                changed |= canonical_clamp(op, uses)
        for op in list(graph.ops):
            if op.type in ACTIVATION_RANGE and uses.alive(op):
                changed |= fuse(op, uses)
    return changed


def scalar(t: Tensor | None) -> float | None:
    if t is None or not t.is_constant or t.data.size != 1 or t.data.dtype.kind != "f":
        return None
    return float(t.data.reshape(()))


def clamp_of(op: Op):
    """(low, high, data input) if `op` clamps a float tensor to a range, else None."""
    if op.type in ACTIVATION_RANGE:
        low, high = ACTIVATION_RANGE[op.type]
        x = op.inputs[0]
    elif op.type in ("MAXIMUM", "MINIMUM") and len(op.inputs) == 2:
        a, b = op.inputs
        x, bound = (a, scalar(b)) if scalar(b) is not None else (b, scalar(a))
        if bound is None or x is None or x.is_constant or x.rank < max(a.rank, b.rank):
            return None
        low, high = (bound, math.inf) if op.type == "MAXIMUM" else (-math.inf, bound)
    else:
        return None
    if x.dtype not in FLOATS or x.quant is not None or op.outputs[0].quant is not None:
        return None
    return low, high, x


def canonical_clamp(op: Op, uses: Uses) -> bool:
    clamp = clamp_of(op)
    if clamp is None:
        return False
    low, high, x = clamp
    inner = uses.producer.get(id(x))
    inner_clamp = clamp_of(inner) if inner is not None and uses.only_reader(x, op) else None
    if inner_clamp is not None:
        merged = (max(low, inner_clamp[0]), min(high, inner_clamp[1]))
        if merged in CLAMPS:
            uses.remove(inner)
            uses.replace_op(op, Op(CLAMPS[merged], [inner_clamp[2]], [op.outputs[0]],
                                   sources=inner.sources + op.sources))
            return True
    if op.type in ("MAXIMUM", "MINIMUM") and (low, high) in CLAMPS:
        uses.replace_op(op, Op(CLAMPS[(low, high)], [x], [op.outputs[0]], sources=list(op.sources)))
        return True
    return False


def fuse(op: Op, uses: Uses) -> bool:
    x = op.inputs[0]
    source = source_of(uses, x, op)
    if source is None:
        return False
    producer, view, produced = source
    if (producer.type not in PRODUCERS or producer.options.get("fused_activation_function") != "NONE"
            or not (x.dtype in FLOATS or x.quant is not None)):
        return False
    producer.options["fused_activation_function"] = op.type
    uses.remove(op)
    hand_over(uses, producer, view, produced, op.outputs[0])
    merge_sources(producer.sources, op.sources)
    merge_sources(op.outputs[0].sources, x.sources)
    return True
