"""Choose the channel classes to remove for a target.

All removable classes (unpinned, in groups not excluded) are ranked by importance, least important first.
Taking the first k of that ranking, each group removes its own least important classes, within Limits: it
keeps at least `min_channels` and (1 - max_ratio) of its channels, and a multiple of `multiple`
(SIMD-friendly widths; a group may also stay whole). The removed set only grows with k, so the smallest k
that meets the target is found by bisection: a fraction of FLOPs (costed exactly on the planned shapes) or
of the removable channel classes.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from .channels import Analysis, Group
from .flops import graph_flops

TARGETS = ("flops", "channels")


@dataclass
class Plan:
    removed: set  # class roots
    per_group: list  # classes removed, per group
    flops_before: int
    flops_after: int
    channels_before: int
    channels_after: int
    met: bool  # False when the limits stop short of the target


@dataclass
class Limits:
    """Per-layer bounds: keep at least `min_channels` and at least (1 - max_ratio) of the channels, and a
    multiple of `multiple` (or all of them)."""
    min_channels: int = 8
    multiple: int = 8
    max_ratio: float = 0.5

    def removable(self, group: Group) -> int:
        """The most classes the group may lose."""
        free = int((~group.pinned).sum())
        floor = max(self.min_channels, 1, math.ceil(group.size * (1.0 - self.max_ratio) - 1e-9))
        return max(min(free, group.size - min(group.size, floor)), 0)

    def rounded(self, group: Group, r: int) -> int:
        """Fewer removals (never more) so the kept count is a multiple of `multiple` or the whole group."""
        r = min(r, self.removable(group))
        while r > 0 and (group.size - r) % max(self.multiple, 1):
            r -= 1
        return r


class Planner:
    def __init__(self, a: Analysis, groups: list, scores: dict, excluded: set, limits: Limits):
        self.a, self.groups, self.limits = a, groups, limits
        self.flops_before = graph_flops(a.graph)
        self.order: list[tuple] = []  # (score, group index, class position)
        self.sorted_classes: list[list] = []
        for gi, g in enumerate(groups):
            free = [] if gi in excluded else [j for j in range(g.size) if not g.pinned[j]]
            ranked = sorted(free, key=lambda j: (scores.get(int(g.classes[j]), 0.0), j))
            self.sorted_classes.append([int(g.classes[j]) for j in ranked])
            self.order += [(scores.get(int(g.classes[j]), 0.0), gi, rank) for rank, j in enumerate(ranked)]
        self.order.sort()
        self.channels_before = len(self.order)  # the channel target counts removable classes

    def counts(self, k: int) -> list:
        taken = [0] * len(self.groups)
        for _, gi, _ in self.order[:k]:
            taken[gi] += 1
        return [self.limits.rounded(g, r) for g, r in zip(self.groups, taken)]

    def removed(self, counts: list) -> set:
        return {r for cls, n in zip(self.sorted_classes, counts) for r in cls[:n]}

    def flops(self, removed: set) -> int:
        masks = self.a.keep_masks(removed)
        return graph_flops(self.a.graph, {key: (self.a.axes[key], int(m.sum())) for key, m in masks.items()
                                          if self.a.axes[key] is not None})

    def meets(self, counts: list, target: str, ratio: float) -> bool:
        if target == "flops":
            return self.flops(self.removed(counts)) <= self.flops_before * (1.0 - ratio)
        return sum(counts) >= self.channels_before * ratio

    def plan(self, target: str, ratio: float) -> Plan:
        """The smallest removal meeting `ratio` of `target` (or the most the constraints allow)."""
        lo, hi = 0, len(self.order)
        while lo < hi:
            mid = (lo + hi) // 2
            if self.meets(self.counts(mid), target, ratio):
                hi = mid
            else:
                lo = mid + 1
        counts = self.counts(lo)
        removed = self.removed(counts)
        return Plan(removed, counts, self.flops_before, self.flops(removed), self.channels_before,
                    self.channels_before - sum(counts), self.meets(counts, target, ratio))


def excluded_groups(groups: list, names) -> set:
    """Groups touching a weighted op whose source node name, label or output name is in `names`."""
    names = set(names)
    if not names:
        return set()
    out = set()
    for gi, g in enumerate(groups):
        ops = [*g.producers, *(c.op for c in g.consumers)]
        if any(names & {*op.sources, op.label, *(t.name for t in op.outputs)} for op in ops):
            out.add(gi)
    return out


def unknown_names(graph, names) -> list:
    known = {n for op in graph.ops for n in (*op.sources, op.label, *(t.name for t in op.outputs))}
    return [n for n in names if n not in known]
