"""Remove dead code: ops none of whose outputs is read by another op or is a graph output.

Tensors live only through the ops and graph I/O that reference them, so removing an op drops the tensors
only it referenced. Ops with effects beyond their outputs stay.
"""
from __future__ import annotations

from .edit import graphs_of
from .fold_constants import STATEFUL


def run(model_or_graph) -> bool:
    changed = False
    for graph in graphs_of(model_or_graph):
        live = {id(t) for t in graph.outputs}
        kept = []
        for op in reversed(graph.ops):
            if (op.type in STATEFUL or op.type == "CUSTOM" or not op.outputs
                    or any(id(t) in live for t in op.outputs)):
                kept.append(op)
                live.update(id(t) for t in op.inputs if t is not None)
        changed |= len(kept) != len(graph.ops)
        graph.ops = kept[::-1]
    return changed
