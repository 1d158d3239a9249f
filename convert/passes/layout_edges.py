"""The layout pass's edges: ops between two regions that can take any layout on either side, at a cost.

TransposeEdge: a TRANSPOSE with a constant perm. With its input stored as Ls and output as Ld it becomes
the transpose inv(Ls)[P[Ld]], free when that is an identity or only moves size-1 dims (a reshape).
ReshapeEdge: a RESHAPE, SQUEEZE or EXPAND_DIMS that only inserts or removes size-1 dims. It stays one
RESHAPE when both sides keep the dims that are not 1 in the same order; otherwise it runs on the logical
forms, with a transpose on each permuted side.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..ir import Op, Tensor
from .perms import compose, identity, inverse, is_reshape, permuted

RESHAPES = ("RESHAPE", "SQUEEZE", "EXPAND_DIMS")


@dataclass(eq=False)
class TransposeEdge:
    op: Op
    src: Tensor
    dst: Tensor
    perm: tuple

    def stored_perm(self, src_perm, dst_perm) -> tuple:
        return compose(inverse(src_perm), compose(self.perm, dst_perm))

    def cost(self, src_perm, dst_perm, src_has_logical: bool) -> tuple[int, int]:
        """(transposes, reshapes) left by this edge."""
        stored = self.stored_perm(src_perm, dst_perm)
        from_logical = compose(self.perm, dst_perm)
        if stored == identity(len(stored)) or (src_has_logical and from_logical == identity(len(stored))):
            return 0, 0
        if is_reshape(permuted(self.src.shape, src_perm), stored):
            return 0, 1
        if src_has_logical and is_reshape(self.src.shape, from_logical):
            return 0, 1
        return 1, 0

    def dst_candidates(self, src_perm) -> list[tuple]:
        # the second one cancels the edge when it reads the source's logical form
        return [compose(inverse(self.perm), src_perm), inverse(self.perm)]

    def src_candidates(self, dst_perm) -> list[tuple]:
        return [compose(self.perm, dst_perm)]


@dataclass(eq=False)
class ReshapeEdge:
    op: Op
    src: Tensor
    dst: Tensor
    mapping: dict  # source axis -> destination axis, for every dim that is not 1, in order

    @classmethod
    def of(cls, op: Op) -> "ReshapeEdge | None":
        src, dst = op.inputs[0], op.outputs[0]
        if op.type not in RESHAPES or src is None or src.is_constant or sum(d is None for d in dst.shape) > 1:
            return None
        if any(t is not None and not t.is_constant for t in op.inputs[1:]):
            return None
        kept_src = [i for i, d in enumerate(src.shape) if d != 1]
        kept_dst = [j for j, d in enumerate(dst.shape) if d != 1]
        if [src.shape[i] for i in kept_src] != [dst.shape[j] for j in kept_dst]:
            return None
        return cls(op, src, dst, dict(zip(kept_src, kept_dst)))

    def compatible(self, src_perm, dst_perm) -> bool:
        kept = set(self.mapping.values())
        return [self.mapping[a] for a in src_perm if a in self.mapping] == [b for b in dst_perm if b in kept]

    def cost(self, src_perm, dst_perm, src_has_logical: bool) -> tuple[int, int]:
        """(transposes, reshapes) left by this edge beyond the reshape itself."""
        if self.compatible(src_perm, dst_perm):
            return 0, 0
        sides = [side_cost(self.src.shape, src_perm), side_cost(self.dst.shape, dst_perm)]
        return sum(t for t, _ in sides), sum(r for _, r in sides)

    @staticmethod
    def _arrange(order: list, rank: int, kept: set) -> tuple:
        """A permutation listing the kept axes in `order`, other (size-1) axes where they are."""
        rest = iter(order)
        return tuple(next(rest) if a in kept else a for a in range(rank))

    def dst_candidates(self, src_perm) -> list[tuple]:
        order = [self.mapping[a] for a in src_perm if a in self.mapping]
        return [self._arrange(order, self.dst.rank, set(self.mapping.values()))]

    def src_candidates(self, dst_perm) -> list[tuple]:
        back = {b: a for a, b in self.mapping.items()}
        order = [back[b] for b in dst_perm if b in back]
        return [self._arrange(order, self.src.rank, set(self.mapping))]


def edge_of(op: Op):
    """The edge an op forms between regions, or None."""
    if op.type == "TRANSPOSE" and len(op.inputs) > 1 and op.inputs[1] is not None and op.inputs[1].is_constant:
        if op.inputs[0] is not None and not op.inputs[0].is_constant:
            return TransposeEdge(op, op.inputs[0], op.outputs[0], tuple(int(p) for p in op.inputs[1].data))
        return None
    return ReshapeEdge.of(op)


def reshape_shape(t: Tensor) -> np.ndarray:
    return np.array([-1 if d is None else d for d in t.shape], np.int32)


def side_cost(shape, perm) -> tuple[int, int]:
    """(transposes, reshapes) of converting a tensor between its logical layout and `perm`."""
    if tuple(perm) == identity(len(perm)):
        return 0, 0
    return (0, 1) if is_reshape(shape, perm) else (1, 0)
