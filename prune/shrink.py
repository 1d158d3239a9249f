"""Physically remove channel classes: cut every recorded constant slice, shrink every tensor carrying the
classes, and rewrite the shape constants that name a shrunk size (RESHAPE targets, TRANSPOSE_CONV's
output_shape). The graph keeps its ops, in order; only sizes change."""
from __future__ import annotations

import numpy as np

from edgepress.convert.ir import Graph, Op, Tensor
from edgepress.convert.passes.edit import Names

from .channels import Analysis

# op type -> input index of the constant holding the op's output shape
SHAPE_INPUTS = {"RESHAPE": 1, "TRANSPOSE_CONV": 0}


def shrink(a: Analysis, removed: set) -> None:
    graph = a.graph
    masks = a.keep_masks(removed)
    edit = ConstantEdit(graph)
    for s in a.slices:
        mask = masks[id(s.tensor)]
        if s.groups > 1:
            mask = mask.reshape(s.groups, -1)[0]
        if not mask.all():
            edit(s.op, s.index, np.compress(mask, s.op.inputs[s.index].data, axis=s.axis))
    for t in graph.tensors():
        mask, axis = masks.get(id(t)), a.axes.get(id(t))
        if mask is not None and axis is not None and not t.is_constant:
            t.shape = t.shape[:axis] + (int(mask.sum()),) + t.shape[axis + 1:]
    for op in graph.ops:
        index = SHAPE_INPUTS.get(op.type)
        shape_in = op.inputs[index] if index is not None and index < len(op.inputs) else None
        if shape_in is not None and shape_in.is_constant and op.outputs[0].static:
            new = np.asarray(op.outputs[0].shape, dtype=shape_in.data.dtype)
            if not np.array_equal(new, shape_in.data):
                edit(op, index, new)
        if op.type == "RESHAPE" and op.options.get("new_shape"):
            op.options["new_shape"] = list(op.outputs[0].shape)


class ConstantEdit:
    """Give op input `index` new constant data: in place when the op is the constant's only reader, else as
    a new constant (a shared constant keeps its value for its other readers)."""

    def __init__(self, graph: Graph):
        self.readers = graph.consumers()
        self.names = Names(graph)

    def __call__(self, op: Op, index: int, data: np.ndarray) -> None:
        old = op.inputs[index]
        data = np.ascontiguousarray(data, dtype=old.data.dtype)
        shared = len(self.readers.get(id(old), [])) > 1 or sum(t is old for t in op.inputs) > 1
        if shared:
            new = Tensor.constant(self.names(old.name), data, sources=old.sources)
            op.inputs[index] = new
            self.readers[id(new)] = [op]
        else:
            old.data, old.shape = data, data.shape
