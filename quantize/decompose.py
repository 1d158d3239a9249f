"""Float ops rewritten, before calibration, as ops that have the integer kernels a target runs (targets.py).

HARD_SWISH(x) = x * RELU6(x + 3) / 6 becomes ADD(x, 3) with a fused RELU6, a MUL by 1/6 and a MUL by x. The
gate RELU6(x + 3) / 6 lies in [0, 1] and is quantized on a grid 1/6 of the RELU6's, so the MUL by 1/6 adds no
rounding of its own; the rewrite costs one more rounding, of the gate, than a fused kernel, unless the 1/6
moves into a linear reader (hard_swish). In PP-OCRv4 det,
int8 HARD_SWISH cut litert's XNNPACK graph into 28 partitions around builtin kernels (int8 1.4x slower than
float32); rewritten, the graph is one partition as in float and int8 is 0.8x float32.
Rewriting before calibration gives every new tensor a calibrated range. An op kept float is left whole.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np

from edgepress.convert.ir import Graph, Model, Op, Tensor
from edgepress.convert.passes.edit import Names


WEIGHTED = frozenset({"CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED"})  # linear in input 0; weights: input 1


@dataclass
class Context:
    """What a decomposition may look at beyond its op: fresh names, and the op that alone reads a tensor."""
    names: Names
    consumers: dict
    outputs: set
    keep: callable

    def reader(self, t: Tensor) -> Op | None:
        readers = self.consumers.get(id(t), [])
        if id(t) in self.outputs or len(readers) != 1 or self.keep(readers[0]):
            return None
        return readers[0]


def hard_swish(op: Op, ctx: Context) -> tuple[list, Op | None]:
    """The ops replacing HARD_SWISH, and the reader they replace too (or None).

    The 1/6 moves into the reader when it is linear: a MUL by a scalar constant (PP-LCNetV3's learnable
    scale after every HARD_SWISH) takes it into the gate's constant, and a conv's weights take it outright;
    either saves an op and a rounding."""
    (x,), (y,) = op.inputs, op.outputs
    sources = list(op.sources)

    def tensor(suffix: str, qdq_range: tuple | None) -> Tensor:
        # a QDQ source's ranges on x and y decide those of the new tensors too (quantize/qdq.py)
        t = Tensor(ctx.names(f"{y.name}/{suffix}"), y.shape, y.dtype, sources=list(sources))
        t.qdq_range = qdq_range
        return t

    def constant(suffix: str, value) -> Tensor:
        return Tensor.constant(ctx.names(f"{y.name}/{suffix}"), np.asarray(value, np.float32), sources=sources)

    def scaled(r: tuple | None, factor: float) -> tuple | None:
        return None if r is None else tuple(sorted(v * factor for v in r))

    relu6_range = None if x.qdq_range is None else tuple(min(max(v + 3.0, 0.0), 6.0) for v in x.qdq_range)
    relu6 = tensor("relu6", relu6_range)
    ops = [Op("ADD", [x, constant("three", 3.0)], [relu6], {"fused_activation_function": "RELU6"},
              sources=list(sources))]
    reader = ctx.reader(y)
    factor = scalar_factor(reader, y)
    if factor is not None:
        gate = tensor("gate", scaled(relu6_range, factor / 6))
        (z,) = reader.outputs
        ops += [Op("MUL", [relu6, constant("gate_scale", factor / 6)], [gate], sources=list(sources)),
                Op("MUL", [x, gate], [z], sources=sources + [s for s in reader.sources if s not in sources])]
        return ops, reader
    if absorbs_factor(reader, y):
        times6 = tensor("times6", scaled(y.qdq_range, 6.0))
        w = reader.inputs[1]
        reader.inputs[0] = times6
        reader.inputs[1] = Tensor.constant(ctx.names(f"{w.name}/sixth"), w.data / np.float32(6), sources=w.sources)
        return ops + [Op("MUL", [x, relu6], [times6], sources=list(sources))], None
    gate = tensor("gate", scaled(relu6_range, 1 / 6))
    ops += [Op("MUL", [relu6, constant("sixth", 1 / 6)], [gate], sources=list(sources)),
            Op("MUL", [x, gate], [y], sources=list(sources))]
    return ops, None


def absorbs_factor(reader: Op | None, t: Tensor) -> bool:
    """`reader` is linear in `t` with float32 constant weights that can take a factor."""
    if reader is None or reader.type not in WEIGHTED or reader.inputs[0] is not t:
        return False
    w = reader.inputs[1]
    return w is not None and w.is_constant and w.dtype == "float32"


def scalar_factor(reader: Op | None, t: Tensor) -> float | None:
    """The scalar constant a MUL (with no fused activation) multiplies `t` by, if `reader` is one."""
    if reader is None or reader.type != "MUL" or reader.options["fused_activation_function"] != "NONE":
        return None
    others = [u for u in reader.inputs if u is not t]
    if len(others) != 1 or not others[0].is_constant or others[0].data.size != 1:
        return None
    if list(reader.outputs[0].shape) != list(t.shape):
        return None
    return float(others[0].data.reshape(()))


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
    ctx = Context(Names(graph), graph.consumers(), {id(t) for t in graph.outputs}, keep)
    ops, replaced = [], set()
    for op in graph.ops:
        if id(op) in replaced:
            continue
        if wanted(op, op_types, keep):
            new, reader = DECOMPOSITIONS[op.type](op, ctx)
            ops.extend(new)
            if reader is not None:
                replaced.add(id(reader))
        else:
            ops.append(op)
    graph.ops = ops
