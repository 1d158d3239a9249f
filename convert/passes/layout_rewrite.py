"""Rewrite a graph to the stored layouts the layout pass chose (the model is described in layout.py).

Each tensor of a permuted region gets a stored form S (what agnostic ops and edges read and write) and,
when a layout-bound op, the caller or a graph output sees it, a logical form G, with one transpose between
them. The tensor object itself stays with whoever must keep it: graph inputs and outputs (their objects and
names are the model's interface) and tensors written by layout-bound ops stay logical; others become S.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..ir import Graph, Op, QuantParams, Tensor
from .edit import Names
from .layout_edges import ReshapeEdge, TransposeEdge, reshape_shape, side_cost
from .perms import channels_last, compose, identity, inverse, permuted

if TYPE_CHECKING:
    from .layout import Plan


def apply(graph: Graph, plan: Plan) -> None:
    names = Names(graph)
    producers = graph.producers()
    forms: dict[int, tuple] = {}  # id(original tensor) -> (stored, logical or None, perm, writes_logical)
    for region in plan.moved():
        for t in region.tensors:
            forms[id(t)] = split(t, region.perm, plan, names)
    for op in graph.ops:
        rewire(op, plan, forms)

    expansions = {}
    new = New(names)
    for region in plan.moved():
        for op, rule in region.ops:
            extra = rule.rewrite(op, region.perm, new)
            if extra:
                expansions[id(op)] = [op, *extra]
    stored_perm = {id(s): perm for s, _, perm, _ in forms.values()}
    logical_of = {id(s): g for s, g, _, _ in forms.values() if g is not None}
    for edge in plan.edges:
        if isinstance(edge, TransposeEdge):
            recompose(edge.op, edge.perm, stored_perm, logical_of, names)
        else:
            expansions[id(edge.op)] = reshape_between(edge.op, edge, stored_perm, logical_of, names)

    prologue, after = [], {}
    for key, (stored, logical, perm, writes_logical) in forms.items():
        if logical is None:
            continue
        convert = (transpose(logical, perm, stored, names) if writes_logical
                   else transpose(stored, inverse(perm), logical, names))
        producer = producers.get(key)
        (prologue if producer is None else after.setdefault(id(producer), [])).append(convert)
    graph.ops = prologue + [o for op in graph.ops for o in (*expansions.get(id(op), [op]), *after.get(id(op), ()))]
    graph.toposort()


class New:
    """Makes the tensors rules need: permuted copies of constants and fresh run-time tensors."""

    def __init__(self, names: Names):
        self.names = names

    def constant(self, like: Tensor, value: np.ndarray) -> Tensor:
        return Tensor.constant(self.names(f"{like.name}/permuted"), value, like.dtype, sources=like.sources)

    def tensor(self, like: Tensor) -> Tensor:
        return Tensor(self.names(f"{like.name}/permuted"), like.shape, like.dtype, sources=list(like.sources),
                      qdq_range=like.qdq_range)


def split(t: Tensor, perm: tuple, plan: Plan, names: Names) -> tuple:
    writes_logical = plan.writes_logical(t, perm)
    needs_logical = plan.needs_logical(t, perm)
    suffix = "channels_last" if perm == channels_last(t.rank) else "permuted"
    if writes_logical or plan.io_bound(t, perm):
        stored = Tensor(names(f"{t.name}/{suffix}"), permuted(t.shape, perm), t.dtype,
                        quant=moved_quant(t.quant, perm), sources=list(t.sources), qdq_range=t.qdq_range)
        return stored, t, perm, writes_logical
    logical = (Tensor(names(f"{t.name}/source_layout"), t.shape, t.dtype, quant=t.quant, sources=list(t.sources),
                      qdq_range=t.qdq_range) if needs_logical else None)
    t.shape, t.quant = permuted(t.shape, perm), moved_quant(t.quant, perm)
    return t, logical, perm, writes_logical


def moved_quant(quant: QuantParams | None, perm) -> QuantParams | None:
    if quant is None or not quant.per_axis:
        return quant
    return QuantParams(quant.scale, quant.zero_point, inverse(perm)[quant.axis], quant.min, quant.max)


def rewire(op: Op, plan: Plan, forms: dict) -> None:
    """Layout slots get the stored form, every other slot the logical one."""
    layout_in = plan.layout_inputs.get(id(op), set())
    layout_out = plan.layout_outputs.get(id(op), set())
    op.inputs = [pick(t, i in layout_in, forms) for i, t in enumerate(op.inputs)]
    op.outputs = [pick(t, j in layout_out, forms) for j, t in enumerate(op.outputs)]


def pick(t: Tensor | None, stored: bool, forms: dict) -> Tensor | None:
    if t is None or id(t) not in forms:
        return t
    s, g, _, _ = forms[id(t)]
    return s if stored else g


def recompose(op: Op, perm: tuple, stored_perm: dict, logical_of: dict, names: Names) -> None:
    """A TRANSPOSE between regions: the perm that maps what it now reads to what it now writes."""
    src, dst = op.inputs[0], op.outputs[0]
    src_perm = stored_perm.get(id(src), identity(src.rank))
    dst_perm = stored_perm.get(id(dst), identity(dst.rank))
    new = compose(inverse(src_perm), compose(perm, dst_perm))
    logical = logical_of.get(id(src))
    from_logical = compose(perm, dst_perm)
    if logical is not None and side_cost(logical.shape, from_logical) < side_cost(src.shape, new):
        op.inputs[0], new = logical, from_logical
    if new != perm:
        op.inputs[1] = Tensor.constant(names(f"{dst.name}/perm"), np.array(new, np.int32))


def reshape_between(op: Op, edge: ReshapeEdge, stored_perm: dict, logical_of: dict, names: Names) -> list[Op]:
    """A reshape edge: one RESHAPE between the stored forms when they agree, else the op on logical forms
    with a transpose on each permuted side."""
    src, dst = op.inputs[0], op.outputs[0]
    src_perm = stored_perm.get(id(src), identity(src.rank))
    dst_perm = stored_perm.get(id(dst), identity(dst.rank))
    if src_perm == identity(src.rank) and dst_perm == identity(dst.rank):
        return [op]
    if edge.compatible(src_perm, dst_perm):
        shape = Tensor.constant(names(f"{dst.name}/shape"), reshape_shape(dst))
        return [Op("RESHAPE", [src, shape], [dst], sources=list(op.sources))]
    before, after = [], []
    if src_perm != identity(src.rank):
        logical = logical_of.get(id(src))
        if logical is None:
            logical = unpermuted(src, src_perm, names)
            before.append(transpose(src, inverse(src_perm), logical, names))
        op.inputs[0] = logical
    if dst_perm != identity(dst.rank):
        logical = unpermuted(dst, dst_perm, names)
        after.append(transpose(logical, dst_perm, dst, names))
        op.outputs[0] = logical
    return [*before, op, *after]


def unpermuted(stored: Tensor, perm, names: Names) -> Tensor:
    back = inverse(perm)
    return Tensor(names(f"{stored.name}/source_layout"), permuted(stored.shape, back), stored.dtype,
                  quant=moved_quant(stored.quant, back), sources=list(stored.sources), qdq_range=stored.qdq_range)


def transpose(src: Tensor, perm, dst: Tensor, names: Names) -> Op:
    return Op("TRANSPOSE", [src, Tensor.constant(names(f"{dst.name}/perm"), np.array(perm, np.int32))], [dst],
              sources=list(dst.sources))
