"""Tidy the transposes the layout pass leaves: compose chains, drop identities and unread ones, merge
duplicates, let BATCH_MATMUL absorb a swap of the last two axes (its adj_x/adj_y options), and turn those
that only move size-1 dims into RESHAPE (a free view in TFLite)."""
from __future__ import annotations

import numpy as np

from ..ir import Graph, Op, Tensor
from .edit import Names, Uses, merge_sources
from .layout_edges import reshape_shape
from .perms import compose, identity, is_reshape


def run(graph: Graph, reshape: bool = True) -> bool:
    """reshape=False keeps transposes that only move size-1 dims, so the layout solver still sees them
    as edges (one may carry the channels-last layout to a graph output)."""
    changed = False
    while True:
        uses = Uses(graph)
        names = Names(graph)
        step = False
        for op in list(reversed(graph.ops)):  # consumers first, so chains compose before their links change
            if uses.alive(op) and perm_of(op) is not None:
                step |= tidy(op, uses, names, reshape)
        if not step:
            return changed
        changed = True


def perm_of(op: Op) -> tuple | None:
    if op.type != "TRANSPOSE" or len(op.inputs) < 2 or op.inputs[1] is None or not op.inputs[1].is_constant:
        return None
    return tuple(int(p) for p in op.inputs[1].data)


def tidy(op: Op, uses: Uses, names: Names, reshape: bool) -> bool:
    src, dst = op.inputs[0], op.outputs[0]
    perm = perm_of(op)
    if not uses.readers(dst) and not uses.is_output(dst):
        uses.remove(op)
        return True
    inner = uses.producer.get(id(src))
    if inner is not None and perm_of(inner) is not None:
        composed = np.array(compose(perm_of(inner), perm), np.int32)
        uses.set_input(op, 0, inner.inputs[0])
        uses.set_input(op, 1, Tensor.constant(names(f"{dst.name}/perm"), composed))
        merge_sources(op.sources, inner.sources)
        return True
    if perm == identity(len(perm)) and uses.bypass(op, src, dst):
        return True
    if absorb_into_matmul(op, perm, uses):
        return True
    twin = next((o for o in uses.readers(src) if o is not op and perm_of(o) == perm and o.inputs[0] is src), None)
    if (twin is not None and uses.graph.ops.index(twin) < uses.graph.ops.index(op)
            and uses.bypass(op, twin.outputs[0], dst)):
        return True
    if reshape and is_reshape(src.shape, perm):
        shape = Tensor.constant(names(f"{dst.name}/shape"), reshape_shape(dst))
        uses.replace_op(op, Op("RESHAPE", [src, shape], [dst], sources=op.sources))
        return True
    return False


ADJOINT = ("adj_x", "adj_y")  # BATCH_MATMUL option transposing input 0, 1


def absorb_into_matmul(op: Op, perm: tuple, uses: Uses) -> bool:
    """A swap of the last two axes read by BATCH_MATMUL becomes that matmul's adjoint flag."""
    rank = len(perm)
    if rank < 2 or perm != (*range(rank - 2), rank - 1, rank - 2):
        return False
    src, dst = op.inputs[0], op.outputs[0]
    changed = False
    for reader in list(uses.readers(dst)):
        if reader.type != "BATCH_MATMUL":
            continue
        for slot, flag in enumerate(ADJOINT):
            if reader.inputs[slot] is dst:
                uses.set_input(reader, slot, src)
                reader.options[flag] = not reader.options[flag]
                changed = True
    return changed
