"""float16 weights: float32 constants stored as float16 behind a DEQUANTIZE, as TFLite's float16 quantization
writes them. Activations stay float32; interpreters (XNNPACK) expand the weights once at load time.

IR -> IR. The DEQUANTIZE output keeps the constant's name, so every tensor of the float model keeps its name.
Constants that float16 cannot hold (beyond its range, e.g. -1e9 attention masks) stay float32, and tiny ones
(a handful of elements: scalars, epsilons) are not worth an op.
"""
from __future__ import annotations

import copy

import numpy as np

from edgepress.convert.ir import Model, Op, Tensor
from edgepress.convert.passes.edit import Names

from .prepare import expand_weights

MIN_ELEMENTS = 16
FLOAT16_MAX = float(np.finfo(np.float16).max)


def quantize_float16(model: Model, keep=lambda op: False) -> tuple[Model, list]:
    """Returns the new model and the names of the constants converted."""
    model = copy.deepcopy(model)
    converted = []
    for graph in model.graphs:
        expand_weights(graph)
        names = Names(graph)
        outputs = {id(t) for t in graph.outputs}
        ops, done = [], set()
        for op in graph.ops:
            if not keep(op):
                for t in op.inputs:
                    if t is not None and id(t) not in done and id(t) not in outputs and convertible(t):
                        done.add(id(t))
                        ops.append(to_float16(t, names))
                        converted.append(t.name)
            ops.append(op)
        graph.ops = ops
    return model, converted


def convertible(t: Tensor) -> bool:
    return (t.is_constant and t.dtype == "float32" and not t.is_variable and t.sparsity is None
            and t.data.size >= MIN_ELEMENTS and bool(np.all(np.abs(t.data) <= FLOAT16_MAX)))


def to_float16(t: Tensor, names: Names) -> Op:
    """Turn constant `t` into the output of DEQUANTIZE(float16 copy); returns that op."""
    half = Tensor.constant(names(f"{t.name}/float16"), t.data.astype(np.float16), sources=list(t.sources))
    t.data = None
    return Op("DEQUANTIZE", [half], [t], sources=list(t.sources))
