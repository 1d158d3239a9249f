"""Structural checks of a graph, run by tests after every pass: what a well-formed IR graph promises."""
from __future__ import annotations

from edgepress.errors import EdgepressError

from ..ir import Graph
from .edit import graphs_of


def problems(graph: Graph) -> list[str]:
    """Every broken promise of `graph`, as readable lines (empty when it is well formed)."""
    found = []
    given = {id(t) for t in graph.inputs}
    ready = set(given)
    written: dict[int, str] = {}
    names: dict[str, int] = {}
    for t in graph.tensors():
        if names.setdefault(t.name, id(t)) != id(t):
            found.append(f"two tensors are named '{t.name}'")
    for op in graph.ops:
        for t in op.inputs:
            if t is not None and not t.is_constant and not t.is_variable and id(t) not in ready:
                found.append(f"{op.type} ({op.label}) reads '{t.name}' before it is written")
        for t in op.outputs:
            if t.is_constant:
                found.append(f"{op.type} ({op.label}) writes constant '{t.name}'")
            if id(t) in written or id(t) in given:
                other = written.get(id(t), "the caller")
                found.append(f"'{t.name}' is written by {op.type} ({op.label}) and also by {other}")
            written[id(t)] = f"{op.type} ({op.label})"
            ready.add(id(t))
        if op.type == "TRANSPOSE" and op.inputs[1] is not None and op.inputs[1].is_constant:
            perm = [int(p) for p in op.inputs[1].data]
            src, dst = op.inputs[0], op.outputs[0]
            if sorted(perm) != list(range(src.rank)) or tuple(src.shape[p] for p in perm) != dst.shape:
                found.append(f"TRANSPOSE ({op.label}) maps {src.shape} by {perm} but declares {dst.shape}")
    for t in graph.outputs:
        if id(t) not in ready and not t.is_constant:
            found.append(f"graph output '{t.name}' is never written")
    return found


def shape_problems(graph: Graph, feeds: dict) -> list[str]:
    """Run the reference evaluator on `feeds` and list every tensor whose value's shape differs from its
    declared static shape (passes that move layouts must keep shapes true)."""
    from ..reference import evaluate
    values = evaluate(graph, feeds, keep_intermediates=True)
    found = []
    for op in graph.ops:
        for t in op.outputs:
            got = values[t.name].shape
            if t.static and got != t.shape:
                found.append(f"'{t.name}' ({op.type}) is declared {t.shape} but computes {got}")
    return found


def check(model_or_graph, after: str = "") -> None:
    """Raise with every problem found, naming the pass that ran last."""
    for graph in graphs_of(model_or_graph):
        found = problems(graph)
        if found:
            where = f" after {after}" if after else ""
            raise EdgepressError(f"graph '{graph.name}' is malformed{where}:\n  " + "\n  ".join(found))
