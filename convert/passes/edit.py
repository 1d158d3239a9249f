"""Small graph edits every pass shares: use maps, rewiring that respects graph outputs, fresh names."""
from __future__ import annotations

import numpy as np

from ..ir import Graph, Model, Op, Tensor


def graphs_of(model_or_graph) -> list[Graph]:
    return list(model_or_graph.graphs) if isinstance(model_or_graph, Model) else [model_or_graph]


def merge_sources(into: list, more: list) -> None:
    """Append the source names of a fused or removed op/tensor, keeping order and dropping repeats."""
    into.extend(s for s in more if s not in into)


class Uses:
    """Producer and consumer maps of a graph, kept current by the edits made through this object."""

    def __init__(self, graph: Graph):
        self.graph = graph
        self.producer: dict[int, Op] = graph.producers()
        self.consumers: dict[int, list[Op]] = graph.consumers()
        self.inputs = {id(t) for t in graph.inputs}
        self.removed: set[int] = set()

    def readers(self, t: Tensor) -> list[Op]:
        return self.consumers.get(id(t), [])

    def is_output(self, t: Tensor) -> bool:
        return any(o is t for o in self.graph.outputs)

    def only_reader(self, t: Tensor, op: Op) -> bool:
        """True if `op` is the single reader of `t` and `t` is not a graph output."""
        readers = self.readers(t)
        return len(readers) == 1 and readers[0] is op and not self.is_output(t)

    def set_input(self, op: Op, index: int, new: Tensor) -> None:
        old = op.inputs[index]
        op.inputs[index] = new
        if old is not None and not any(t is old for t in op.inputs):
            self.consumers[id(old)] = [c for c in self.readers(old) if c is not op]
        if new is not None and op not in self.readers(new):
            self.consumers.setdefault(id(new), []).append(op)

    def set_output(self, op: Op, index: int, new: Tensor) -> None:
        self.producer.pop(id(op.outputs[index]), None)
        op.outputs[index] = new
        self.producer[id(new)] = op

    def replace_uses(self, old: Tensor, new: Tensor) -> None:
        """Every op reading `old` reads `new`; graph outputs are left alone (their tensors keep identity)."""
        for op in list(self.readers(old)):
            for i, t in enumerate(op.inputs):
                if t is old:
                    self.set_input(op, i, new)

    def alive(self, op: Op) -> bool:
        return id(op) not in self.removed

    def remove(self, op: Op) -> None:
        self.graph.ops = [o for o in self.graph.ops if o is not op]
        self.removed.add(id(op))
        for t in op.inputs:
            if t is not None:
                self.consumers[id(t)] = [c for c in self.readers(t) if c is not op]
        for t in op.outputs:
            if self.producer.get(id(t)) is op:
                del self.producer[id(t)]

    def replace_op(self, old: Op, new: Op) -> None:
        """Put `new` in `old`'s place in the op order and the use maps."""
        self.graph.ops[self.graph.ops.index(old)] = new
        self.removed.add(id(old))
        for t in old.inputs:
            if t is not None:
                self.consumers[id(t)] = [c for c in self.readers(t) if c is not old]
        for t in {id(t): t for t in new.inputs if t is not None}.values():
            self.consumers.setdefault(id(t), []).append(new)
        for t in new.outputs:
            self.producer[id(t)] = new

    def bypass(self, op: Op, src: Tensor, dst: Tensor) -> bool:
        """Remove `op` whose output `dst` equals its input `src` (same shape, dtype and quantization).

        A graph output keeps its tensor object (and so its name): when `dst` is one, the producer of `src`
        writes `dst` directly, which is only possible when `src` is an internal tensor. Returns False (and
        changes nothing) when the op must stay as a copy.
        """
        if self.is_output(dst):
            producer = self.producer.get(id(src))
            if producer is None or self.is_output(src) or id(src) in self.inputs:
                return False
            self.remove(op)
            self.set_output(producer, producer.outputs.index(src), dst)
            self.replace_uses(src, dst)
            merge_sources(dst.sources, src.sources)
        else:
            self.remove(op)
            self.replace_uses(dst, src)
            merge_sources(src.sources, dst.sources)
        return True


SHAPE_ONLY = ("RESHAPE", "SQUEEZE", "EXPAND_DIMS")


def source_of(uses: Uses, t: Tensor, reader: Op):
    """(producer, view, produced) for a tensor `t` that only `reader` reads: the op computing it, either
    directly (view None, produced is t) or through one reshape `view` that is the only reader of the
    producer's output `produced`. Elementwise ops and per-channel scales commute with such a view (the
    latter when it keeps the last axis), so they can fold into the producer across it. None if `t` has
    other readers or no producer."""
    if not uses.only_reader(t, reader):
        return None
    producer = uses.producer.get(id(t))
    if producer is None:
        return None
    if producer.type in SHAPE_ONLY and producer.inputs[0] is not None:
        inner = producer.inputs[0]
        source = uses.producer.get(id(inner))
        if source is not None and uses.only_reader(inner, producer) and same_quant(inner, t):
            return source, producer, inner
    return producer, None, t


def hand_over(uses: Uses, producer: Op, view: Op | None, produced: Tensor, out: Tensor) -> None:
    """After folding an op into `producer`, the last op of the chain writes the folded op's output."""
    if view is not None:
        uses.set_output(view, 0, out)
    else:
        uses.set_output(producer, producer.outputs.index(produced), out)


class Names:
    """Fresh tensor names for one graph."""

    def __init__(self, graph: Graph):
        self.taken = {t.name for t in graph.tensors()}

    def __call__(self, base: str) -> str:
        name, i = base, 1
        while name in self.taken:
            name = f"{base}_{i}"
            i += 1
        self.taken.add(name)
        return name


def same_quant(a: Tensor, b: Tensor) -> bool:
    qa, qb = a.quant, b.quant
    if qa is None or qb is None:
        return qa is qb
    return (qa.axis == qb.axis and np.array_equal(qa.scale, qb.scale)
            and np.array_equal(qa.zero_point, qb.zero_point))
