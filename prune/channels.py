"""Channel analysis: which channels of which tensors must be removed together.

Every tracked tensor gets one channel id per position of one axis: the last (NHWC channels,
FULLY_CONNECTED features) unless a TRANSPOSE moved the channels elsewhere. Ops relate the ids
(channel_rules.py, one rule per op type): channel-preserving ops pass their input's ids on, residual ADDs and
gating MULs unify their inputs' ids position by position, concatenation along channels joins id lists, a
depthwise conv repeats each input id depth_multiplier times, a reshape keeps them when the channel index
stays a function of one output axis (a flatten into FULLY_CONNECTED tiles them after an NHWC layout, repeats
them after an NCHW one), a grouped conv ties position j of every group together. Ids joined by the
union-find form a channel class: removing a channel removes every position of its class in every tensor,
and every constant slice recorded for it (weights, biases, PRelu slopes, per-channel constants). A class
that reaches something the analysis cannot follow (graph inputs and outputs, unknown ops, channel-mixing
reshapes) is pinned.

Classes that appear in exactly the same tensors form a Group: the channels of one layer (or of the layers a
residual stream ties together), the unit of limits, exclusions and reports.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from edgepress.convert.ir import Graph, Op, Tensor


@dataclass(eq=False)
class Slice:
    """Constant input `index` of `op` is cut along `axis` with the keep mask of `tensor`'s tracked axis; for
    a grouped conv's input (groups > 1) the mask of one group applies (every group keeps the same positions)."""
    op: Op
    index: int
    axis: int
    tensor: Tensor
    groups: int = 1


@dataclass(eq=False)
class Consumer:
    """A weighted op reading channels: input `data` meets weight axis `axis` of input `weights`."""
    op: Op
    data: int
    weights: int
    axis: int
    groups: int = 1

    @property
    def tensor(self) -> Tensor:
        return self.op.inputs[self.data]


@dataclass(eq=False)
class Group:
    classes: np.ndarray  # class roots, in order of first appearance
    tensors: list  # the runtime tensors carrying these classes
    producers: list  # weighted ops whose output channels these are
    consumers: list  # Consumer entries reading them
    pinned: np.ndarray  # bool per class

    @property
    def name(self) -> str:
        ops = self.producers or [c.op for c in self.consumers]
        return " + ".join(op.label for op in ops) if ops else self.tensors[0].name

    @property
    def size(self) -> int:
        return len(self.classes)


class UnionFind:
    def __init__(self):
        self.parent: list[int] = []

    def new(self, n: int) -> np.ndarray:
        start = len(self.parent)
        self.parent.extend(range(start, start + n))
        return np.arange(start, start + n, dtype=np.int64)

    def find(self, i: int) -> int:
        root = i
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[i] != root:
            self.parent[i], i = root, self.parent[i]
        return root

    def union(self, a: np.ndarray, b: np.ndarray) -> None:
        for x, y in zip(a.tolist(), b.tolist()):
            rx, ry = self.find(x), self.find(y)
            if rx != ry:
                self.parent[max(rx, ry)] = min(rx, ry)

    def roots(self, ids: np.ndarray) -> np.ndarray:
        return np.array([self.find(i) for i in ids.tolist()], dtype=np.int64)


@dataclass(eq=False)
class Analysis:
    """What channel_rules write while walking the graph, and the groups read off it afterwards."""
    graph: Graph
    uf: UnionFind = field(default_factory=UnionFind)
    ids: dict = field(default_factory=dict)  # id(tensor) -> channel ids along its tracked axis
    axes: dict = field(default_factory=dict)  # id(tensor) -> that axis (None for a scalar)
    pinned: list = field(default_factory=list)  # id arrays whose classes may not be removed
    slices: list = field(default_factory=list)
    consumers: list = field(default_factory=list)
    producers: dict = field(default_factory=dict)  # id(output tensor) -> weighted op creating its channels
    _roots: dict = field(default_factory=dict)

    # -- what rules call --------------------------------------------------------------------------------
    def of(self, t: Tensor | None) -> np.ndarray | None:
        """The channel ids of a runtime tensor, None for constants and untracked (dynamic) tensors."""
        return None if t is None or t.is_constant else self.ids.get(id(t))

    def axis_of(self, t: Tensor) -> int | None:
        return self.axes.get(id(t))

    def last(self, t: Tensor | None) -> np.ndarray | None:
        """The ids of a tensor tracked along its last axis (what NHWC and weighted ops need), else None."""
        ids = self.of(t)
        return ids if ids is not None and t.rank and self.axes[id(t)] == t.rank - 1 else None

    def fresh(self, t: Tensor, pinned: bool = False) -> np.ndarray | None:
        """New ids along the last axis of `t`."""
        if not tracked(t):
            return None
        ids = self.uf.new(t.shape[-1] if t.rank else 0)
        self.ids[id(t)], self.axes[id(t)] = ids, (t.rank - 1 if t.rank else None)
        if pinned:
            self.pinned.append(ids)
        return ids

    def pinned_ids(self, n: int) -> np.ndarray:
        ids = self.uf.new(n)
        self.pinned.append(ids)
        return ids

    def same(self, t: Tensor, ids: np.ndarray, axis: int | None = None) -> None:
        """`t` carries `ids` along `axis` (default: its last)."""
        axis = t.rank - 1 if axis is None else axis
        if not tracked(t) or not t.rank or t.shape[axis] != len(ids):
            self.fresh(t, pinned=True)
            self.pinned.append(ids)
        else:
            self.ids[id(t)], self.axes[id(t)] = ids, axis

    def pin(self, t: Tensor | None) -> None:
        ids = self.of(t)
        if ids is not None:
            self.pinned.append(ids)

    def unify(self, a: np.ndarray, b: np.ndarray) -> None:
        self.uf.union(a, b)

    def slice(self, op: Op, index: int, axis: int, t: Tensor, groups: int = 1) -> None:
        if index < len(op.inputs) and op.inputs[index] is not None:
            self.slices.append(Slice(op, index, axis, t, groups))

    def opaque(self, op: Op) -> None:
        """An op the analysis cannot see through: its channels stay as they are on both sides."""
        for t in op.inputs:
            self.pin(t)
        for t in op.outputs:
            self.fresh(t, pinned=True)

    # -- afterwards -------------------------------------------------------------------------------------
    def roots(self, key: int) -> np.ndarray:
        """Class roots of the channels of tracked tensor id `key` (once the walk is done)."""
        if key not in self._roots:
            self._roots[key] = self.uf.roots(self.ids[key])
        return self._roots[key]

    def pinned_roots(self) -> set:
        return {self.uf.find(i) for ids in self.pinned for i in ids.tolist()}

    def groups(self) -> list[Group]:
        pinned = self.pinned_roots()
        runtime = [t for t in self.graph.tensors() if id(t) in self.ids and not t.is_constant]
        carriers: dict[int, list[int]] = {}
        order: list[int] = []
        for k, t in enumerate(runtime):
            for r in dict.fromkeys(self.roots(id(t)).tolist()):
                if r not in carriers:
                    order.append(r)
                carriers.setdefault(r, []).append(k)
        by_key: dict[tuple, list[int]] = {}
        for r in order:
            by_key.setdefault(tuple(carriers[r]), []).append(r)
        groups = []
        for key, roots in by_key.items():
            tensors = [runtime[k] for k in key]
            inside = {id(t) for t in tensors}
            groups.append(Group(
                classes=np.array(roots, dtype=np.int64), tensors=tensors,
                producers=[self.producers[id(t)] for t in tensors if id(t) in self.producers],
                consumers=[c for c in self.consumers if id(c.tensor) in inside],
                pinned=np.array([r in pinned for r in roots])))
        return groups

    def keep_masks(self, removed: set) -> dict:
        """id(tensor) -> bool keep mask along its tracked axis, for every tracked tensor."""
        gone = np.fromiter(removed, dtype=np.int64, count=len(removed))
        return {key: ~np.isin(self.roots(key), gone) for key in self.ids}


def tracked(t: Tensor) -> bool:
    return t is not None and not t.is_constant and t.static and t.dtype == "float32" and t.quant is None


def analyze(graph: Graph) -> Analysis:
    """Walk `graph` once with the channel rules; graph inputs and outputs are pinned."""
    from .channel_rules import RULES
    a = Analysis(graph)
    for t in graph.inputs:
        a.fresh(t, pinned=True)
    for op in graph.ops:
        RULES.get(op.type, Analysis.opaque)(a, op)
        for t in op.outputs:
            if id(t) not in a.ids:
                a.fresh(t, pinned=True)
    for t in graph.outputs:
        ids = a.of(t)
        if ids is not None:
            a.pinned.append(ids)
    return a
