"""Fold BatchNorm into the conv or fully-connected op before it.

The importer lowers BatchNormalization to MUL and ADD by per-channel constants; after the layout pass the
channel is the last axis, so the constants have shapes like (C,) or (1,1,1,C). A MUL (ADD, SUB) by such a
constant, reading the output of a weighted op that nothing else reads and that has no fused activation,
is folded: a scale into the weights along their output-channel axis and into the bias, a shift into the
bias (created when absent). The folded op takes over the MUL/ADD's output tensor and fused activation.
A reshape between them that keeps the last axis (the importer's squeeze after a 1-D conv) does not stop
this: a per-channel scale commutes with it.
"""
from __future__ import annotations

import numpy as np

from ..ir import Op, Tensor
from .edit import Names, Uses, graphs_of, hand_over, merge_sources, source_of

# op type -> (weights input, output-channel axis of the weights, bias input)
WEIGHTED = {
    "CONV_2D": (1, 0, 2),  # OHWI
    "DEPTHWISE_CONV_2D": (1, 3, 2),  # 1HW(C*M)
    "TRANSPOSE_CONV": (1, 0, 3),  # OHWI; input 0 is output_shape, 2 the data
    "FULLY_CONNECTED": (1, 0, 2),  # (out, in)
}
SCALE_OR_SHIFT = ("MUL", "ADD", "SUB")
COMMUTATIVE = ("MUL", "ADD")


def run(model_or_graph) -> bool:
    changed = False
    for graph in graphs_of(model_or_graph):
        uses, names = Uses(graph), Names(graph)
        for op in list(graph.ops):
            if op.type in SCALE_OR_SHIFT and uses.alive(op):
                changed |= fold(op, uses, names)
    return changed


def operands(op: Op):
    """(data, constant) of a MUL/ADD/SUB by a constant, or None."""
    a, b = op.inputs[0], op.inputs[1]
    if b is not None and b.is_constant and a is not None and not a.is_constant:
        return a, b
    if op.type in COMMUTATIVE and a is not None and a.is_constant and b is not None and not b.is_constant:
        return b, a
    return None


def channel_vector(k: np.ndarray, x: Tensor, channels: int) -> np.ndarray | None:
    """The per-channel values of constant `k` broadcast over the last axis of `x`, if that is all it does."""
    if k.ndim > x.rank or any(d != 1 for d in k.shape[:-1]) or (k.ndim and k.shape[-1] not in (1, channels)):
        return None
    if x.shape[-1] != channels:
        return None
    return np.broadcast_to(k.reshape(-1).astype(np.float32), (channels,))


def joined(a: list, b: list) -> list:
    return list(dict.fromkeys([*a, *b]))


def folds_into(producer: Op, x: Tensor) -> bool:
    """Whether a float scale/shift of `x`, the output of `producer`, can move into its weights and bias."""
    w_index, _, b_index = WEIGHTED[producer.type]
    w = producer.inputs[w_index]
    bias = producer.inputs[b_index] if b_index < len(producer.inputs) else None
    return (producer.options.get("fused_activation_function") == "NONE"
            and w is not None and w.is_constant and w.dtype == "float32" and w.quant is None
            and x.dtype == "float32" and x.quant is None
            and (bias is None or (bias.is_constant and bias.dtype == "float32")))


def fold(op: Op, uses: Uses, names: Names) -> bool:
    found = operands(op)
    if found is None:
        return False
    x, k = found
    source = source_of(uses, x, op)
    if source is None or source[0].type not in WEIGHTED or source[2].shape[-1:] != x.shape[-1:]:
        return False
    producer, view, produced = source
    if not folds_into(producer, x):
        return False
    w_index, axis, b_index = WEIGHTED[producer.type]
    w = producer.inputs[w_index]
    vec = channel_vector(k.data, x, w.shape[axis])
    if vec is None or op.outputs[0].shape != x.shape:
        return False
    bias = producer.inputs[b_index] if b_index < len(producer.inputs) else None
    b = bias.data if bias is not None else np.zeros(w.shape[axis], np.float32)
    if op.type == "MUL":
        shape = [1] * w.rank
        shape[axis] = -1
        new_w, new_b = w.data * vec.reshape(shape), b * vec
        uses.set_input(producer, w_index, Tensor.constant(names(w.name), new_w, "float32",
                                                          sources=joined(w.sources, k.sources)))
    else:
        new_b = b + vec if op.type == "ADD" else b - vec
    bias_name = bias.name if bias is not None else f"{x.name}/bias"
    sources = joined(bias.sources if bias is not None else [], k.sources)
    producer.inputs.extend([None] * (b_index + 1 - len(producer.inputs)))
    uses.set_input(producer, b_index, Tensor.constant(names(bias_name), new_b, "float32", sources=sources))
    producer.options["fused_activation_function"] = op.options.get("fused_activation_function", "NONE")
    uses.remove(op)
    hand_over(uses, producer, view, produced, op.outputs[0])
    merge_sources(producer.sources, op.sources)
    merge_sources(op.outputs[0].sources, x.sources)
    return True
