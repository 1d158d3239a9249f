"""Short human summaries of IR models, shared by the CLI commands."""
from __future__ import annotations

from collections import Counter

from .ir import Graph, Model


def op_histogram(model: Model) -> Counter:
    return Counter(op.type for op in model.ops())


def parameter_count(model: Model) -> int:
    return sum(int(t.data.size) for g in model.graphs for t in g.tensors() if t.data is not None)


def describe_io(graph: Graph) -> list[str]:
    def fmt(t):
        dims = ",".join("?" if d is None else str(d) for d in t.shape)
        return f"  {t.name}: {t.dtype}[{dims}]"
    return ["inputs:", *map(fmt, graph.inputs), "outputs:", *map(fmt, graph.outputs)]


def format_histogram(hist: Counter, limit: int = 12) -> str:
    items = hist.most_common()
    shown = ", ".join(f"{name} {n}" for name, n in items[:limit])
    return shown + (f", ... ({len(items) - limit} more types)" if len(items) > limit else "")


def summarize(model: Model, size: int, seconds: float, path: str) -> str:
    hist = op_histogram(model)
    return "\n".join([
        f"wrote {path}: {size / 1e6:.2f} MB, {sum(hist.values())} ops, "
        f"{parameter_count(model) / 1e6:.2f} M parameters, {seconds:.2f} s",
        f"ops: {format_histogram(hist)}",
        *describe_io(model.graph),
    ])
