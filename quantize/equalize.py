"""Cross-layer equalization (Nagel et al., "Data-Free Quantization", section 4.1), before calibration.

For a weighted op whose output channel c feeds, through a ReLU, PReLU, leaky ReLU, zero padding or nothing,
input channel c of a second weighted op, y = W2 . relu(W1 x + b1) equals W2 diag(s) . relu(diag(1/s)(W1 x
+ b1)) for any s > 0. s_c = sqrt(r1_c / r2_c), with r1_c the range of W1's output channel c and r2_c that of
W2's input channel c, makes both ranges sqrt(r1_c r2_c). Folded BatchNorm leaves depthwise-separable chains
with channels whose weights, and so whose activations, differ by orders of magnitude; one per-tensor
activation step then cannot serve them all, and equalizing evens them out. Pairs share layers, so the
sweep repeats until the scales settle. A ReLU6 between (RELU6 is not scale-free) ends a chain: DFQ would
replace it by ReLU, which changes the model.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np

from edgepress.convert.ir import Graph, Model, Op, Tensor

from .params import channel_absmax

# op type -> (axis of the output channels, axis of the input channels) of its weights (input 1)
WEIGHT_AXES = {"CONV_2D": (0, 3), "DEPTHWISE_CONV_2D": (3, 3), "FULLY_CONNECTED": (0, 1)}
SCALE_FREE = frozenset({"NONE", "RELU"})  # fused activations
HOMOGENEOUS = frozenset({"RELU", "LEAKY_RELU", "PRELU"})
SWEEPS = 8
SCALE_LIMITS = (1e-4, 1e4)


@dataclass(frozen=True)
class Pair:
    first: Op
    second: Op


def equalize(model: Model) -> tuple[Model, int]:
    """A copy of `model` with every equalizable pair equalized, and the number of pairs."""
    model = copy.deepcopy(model)
    pairs = [p for g in model.graphs for p in find_pairs(g)]
    for _ in range(SWEEPS):
        for pair in pairs:
            rescale(pair)
    return model, len(pairs)


def find_pairs(graph: Graph) -> list[Pair]:
    """Pairs whose weights and biases no other op reads (those constants change in place)."""
    consumers = graph.consumers()
    outputs = {id(t) for t in graph.outputs}

    def only_reader(t: Tensor) -> Op | None:
        readers = consumers.get(id(t), [])
        return readers[0] if len(readers) == 1 and id(t) not in outputs else None

    pairs = []
    for op in graph.ops:
        if not equalizable(op) or op.options.get("fused_activation_function", "NONE") not in SCALE_FREE:
            continue
        reader = only_reader(op.outputs[0])
        while reader is not None and passes_scales(reader):
            reader = only_reader(reader.outputs[0])
        if reader is not None and equalizable(reader) and reads_channels(op, reader) \
                and all(len(consumers.get(id(t), [])) == 1 for t in constants(op, reader)):
            pairs.append(Pair(op, reader))
    return pairs


def constants(first: Op, second: Op) -> list:
    """What equalizing changes: the first op's weights and bias, the second's weights."""
    return [t for t in (*first.inputs[1:3], second.inputs[1]) if t is not None]


def equalizable(op: Op) -> bool:
    """A float op with constant float weights whose channels map one to one (depthwise: multiplier 1)."""
    w = op.inputs[1] if op.type in WEIGHT_AXES and len(op.inputs) > 1 else None
    if w is None or not w.is_constant or w.dtype != "float32":
        return False
    return op.type != "DEPTHWISE_CONV_2D" or w.shape[3] == op.inputs[0].shape[-1]


def reads_channels(first: Op, second: Op) -> bool:
    """`second` reads `first`'s output channels one to one (no groups, no depth multiplier)."""
    out_axis = WEIGHT_AXES[first.type][0]
    in_axis = WEIGHT_AXES[second.type][1]
    channels = first.inputs[1].shape[out_axis]
    w2 = second.inputs[1]
    if second.type == "CONV_2D" and w2.shape[3] != channels:
        return False  # grouped
    return w2.shape[in_axis] == channels


def passes_scales(op: Op) -> bool:
    """f(x / s) = f(x) / s per channel for any s > 0: positively homogeneous ops, and padding with zeros."""
    if op.type == "PADV2":
        value = op.inputs[2] if len(op.inputs) > 2 else None
        return value is None or (value.is_constant and not np.any(value.data))
    return op.type in HOMOGENEOUS or op.type == "PAD"


def rescale(pair: Pair) -> None:
    first, second = pair.first, pair.second
    out_axis, in_axis = WEIGHT_AXES[first.type][0], WEIGHT_AXES[second.type][1]
    w1, w2 = first.inputs[1].data, second.inputs[1].data
    r1, r2 = channel_absmax(w1, out_axis), channel_absmax(w2, in_axis)
    with np.errstate(divide="ignore", invalid="ignore"):
        s = np.sqrt(r1 / r2)
    s = np.where(np.isfinite(s) & (s > 0), np.clip(s, *SCALE_LIMITS), 1.0).astype(np.float32)
    first.inputs[1].data = (w1 / broadcast(s, w1.ndim, out_axis)).astype(np.float32)
    if len(first.inputs) > 2 and first.inputs[2] is not None:
        first.inputs[2].data = (first.inputs[2].data / s).astype(np.float32)
    second.inputs[1].data = (w2 * broadcast(s, w2.ndim, in_axis)).astype(np.float32)


def broadcast(s: np.ndarray, ndim: int, axis: int) -> np.ndarray:
    shape = [1] * ndim
    shape[axis] = s.size
    return s.reshape(shape)
