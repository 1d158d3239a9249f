"""Layout: choose, once for the whole graph, the permutation each tensor is stored in, so that the
transposes the ONNX importer wrapped around channels-last ops cancel.

The importer keeps ONNX's layout (NCHW) and runs each op TFLite defines only channels-last inside
TRANSPOSE(0,2,3,1) -> op -> TRANSPOSE(0,3,1,2). Pushing those transposes through the ops between them one
step at a time needs look-ahead (a push only pays off several ops later) and can oscillate, so this pass
solves the placement as a whole instead:

1. Regions: tensors joined by layout-agnostic ops (layout_rules.RULES) must share one stored permutation.
   TRANSPOSE ops with constant perms, and reshapes that only add or drop size-1 dims, are edges between
   regions (layout_edges). Every other op, and the graph's inputs and outputs, read and write tensors in
   their logical layout ("bound" tensors).
2. Cost: an edge costs what it leaves behind for the permutations on its two sides (layout_edges); a
   bound tensor stored permuted costs one (the transpose between its two forms). Transposes that only
   move size-1 dims cost nothing: they become RESHAPE.
3. Solve: for each region and candidate permutation (one that cancels one of its edges, or the
   channels-last I/O layout), flood the change to neighbours that do not get worse by it, and take the
   joint move that lowers the total most; repeat until no move lowers it. Every move strictly lowers
   the total, so this ends.
4. Rewrite (layout_rewrite) and tidy the transposes left (transpose_tidy).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ..ir import Graph, Model, Op, Tensor
from . import layout_rewrite, transpose_tidy
from .layout_edges import edge_of, side_cost
from .layout_rules import RULES
from .perms import channels_last, identity

MAX_ROUNDS = 16


def run(model_or_graph, nhwc_io: bool = False) -> bool:
    """nhwc_io: 3-D/4-D/5-D inputs and outputs of the signature graphs may become channels-last when that
    saves transposes (their tensors keep names and objects, their shapes change). It converts the I/O, so
    it is meant for the first run on an imported model only."""
    if isinstance(model_or_graph, Model):
        io_graphs = {s.graph_index for s in model_or_graph.signatures} or {0}
        pairs = [(g, i in io_graphs) for i, g in enumerate(model_or_graph.graphs)]
    else:
        pairs = [(model_or_graph, True)]
    changed = False
    for graph, io in pairs:
        changed |= optimize_layout(graph, free_io=nhwc_io and io)
    return changed


def optimize_layout(graph: Graph, free_io: bool = False) -> bool:
    changed = transpose_tidy.run(graph, reshape=False)
    plan = Plan(graph, free_io)
    plan.solve()
    if plan.moved():
        layout_rewrite.apply(graph, plan)
        changed = True
    return transpose_tidy.run(graph) or changed


@dataclass(eq=False)
class Region:
    tensors: list
    rank: int
    ops: list = field(default_factory=list)  # (op, rule) of agnostic ops linking these tensors
    edges: list = field(default_factory=list)
    perm: tuple = ()


class Plan:
    """Regions, edges and bound tensors of one graph, and the permutation chosen for each region."""

    def __init__(self, graph: Graph, free_io: bool):
        self.graph = graph
        self.layout_inputs: dict[int, set] = {}  # id(op) -> input slots read in the stored layout
        self.layout_outputs: dict[int, set] = {}  # id(op) -> output slots written in the stored layout
        self.bound_readers: set[int] = set()  # tensors some op or graph output reads in logical layout
        self.bound_writers: set[int] = set()  # tensors written in logical layout (or given as fixed input)
        self.io_perm: dict[int, tuple] = {}  # graph I/O -> the one stored layout it may take (nhwc_io)
        self.io: set[int] = set()
        self.graph_inputs = {id(t) for t in graph.inputs}
        self.edges: list = []  # TransposeEdge | ReshapeEdge
        self._parent: dict[int, int] = {}
        self._tensors: dict[int, Tensor] = {}
        agnostic = [self._classify(op) for op in graph.ops]
        self._classify_io(free_io)
        self.regions = self._build_regions([a for a in agnostic if a is not None])
        self.solvable = {id(r): r for r in self.regions}  # regions of rank >= 2, by id

    # -- analysis -------------------------------------------------------------------------------------
    def _track(self, t: Tensor | None) -> bool:
        if t is None or t.is_constant:
            return False
        self._tensors.setdefault(id(t), t)
        self._parent.setdefault(id(t), id(t))
        return True

    def _classify(self, op: Op):
        for t in (*op.inputs, *op.outputs):
            self._track(t)
        edge = edge_of(op)
        if edge is not None:
            self.edges.append(edge)
            self.layout_inputs[id(op)], self.layout_outputs[id(op)] = {0}, {0}
            return None
        rule = RULES.get(op.type)
        link = rule.link(op) if rule is not None else None
        ins, outs = link if link is not None else ([], [])
        self.layout_inputs[id(op)], self.layout_outputs[id(op)] = set(ins), set(outs)
        for i, t in enumerate(op.inputs):
            if i not in ins and self._track(t):
                self.bound_readers.add(id(t))
        for j, t in enumerate(op.outputs):
            if j not in outs:
                self.bound_writers.add(id(t))
        linked = [op.inputs[i] for i in ins] + [op.outputs[j] for j in outs]
        for t in linked[1:]:
            self._union(linked[0], t)
        return (op, rule, linked[0]) if linked else None

    def _classify_io(self, free_io: bool) -> None:
        both = {id(t) for t in self.graph.inputs} & {id(t) for t in self.graph.outputs}
        for t in self.graph.inputs:
            self._io(t, self.bound_writers, free_io and id(t) not in both)
        for t in self.graph.outputs:
            if not t.is_constant:
                self._io(t, self.bound_readers, free_io and id(t) not in both)
        produced = self.graph.producers()
        for key, t in self._tensors.items():
            if key not in produced and key not in self.graph_inputs:
                self.bound_writers.add(key)  # variables and other tensors nothing in the graph writes

    def _io(self, t: Tensor, bound: set, free: bool) -> None:
        self._track(t)
        self.io.add(id(t))
        if free and 3 <= t.rank <= 5:
            self.io_perm[id(t)] = channels_last(t.rank)
        else:
            bound.add(id(t))

    def _find(self, key: int) -> int:
        while self._parent[key] != key:
            self._parent[key] = self._parent[self._parent[key]]
            key = self._parent[key]
        return key

    def _union(self, a: Tensor, b: Tensor) -> None:
        self._parent[self._find(id(a))] = self._find(id(b))

    def _build_regions(self, agnostic: list) -> list[Region]:
        groups: dict[int, Region] = {}
        for key, t in self._tensors.items():
            root = self._find(key)
            if root not in groups:
                groups[root] = Region([], t.rank, perm=identity(t.rank))
            groups[root].tensors.append(t)
        self.region_of = {key: groups[self._find(key)] for key in self._tensors}
        for op, rule, first in agnostic:
            self.region_of[id(first)].ops.append((op, rule))
        for edge in self.edges:
            touched = {id(self.region_of[id(edge.src)]): self.region_of[id(edge.src)],
                       id(self.region_of[id(edge.dst)]): self.region_of[id(edge.dst)]}
            for region in touched.values():
                region.edges.append(edge)
        return [r for r in groups.values() if r.rank >= 2]

    # -- cost -----------------------------------------------------------------------------------------
    def io_bound(self, t: Tensor, perm) -> bool:
        return id(t) in self.io and self.io_perm.get(id(t)) != tuple(perm)

    def writes_logical(self, t: Tensor, perm) -> bool:
        """Whether the producer of `t` (or the caller, for a graph input) gives it in logical layout."""
        return id(t) in self.bound_writers or (id(t) in self.graph_inputs and self.io_bound(t, perm))

    def needs_logical(self, t: Tensor, perm) -> bool:
        """Whether a stored-permuted `t` also needs its logical form (and a transpose between the two)."""
        return (perm != identity(len(perm))
                and (self.writes_logical(t, perm) or id(t) in self.bound_readers or self.io_bound(t, perm)))

    def tensor_cost(self, t: Tensor, perm) -> tuple[int, int]:
        """(transposes, reshapes) between the stored and the logical form of `t`."""
        return side_cost(t.shape, perm) if self.needs_logical(t, perm) else (0, 0)

    def io_penalty(self, region: Region, perm) -> int:
        """I/O tensors left in their source layout although nhwc_io lets them be channels-last: with equal
        transposes, the I/O takes the layout the user asked for."""
        return sum(self.io_bound(t, perm) for t in region.tensors if id(t) in self.io_perm)

    def perm_in(self, t: Tensor, assigned: dict) -> tuple:
        region = self.region_of.get(id(t))
        if region is None:
            return identity(t.rank)
        return assigned.get(id(region), region.perm)

    def edge_cost(self, edge, assigned: dict) -> tuple[int, int]:
        src = self.perm_in(edge.src, assigned)
        return edge.cost(src, self.perm_in(edge.dst, assigned), self.needs_logical(edge.src, src))

    def cost(self, regions: list, assigned: dict) -> tuple[int, int, int, int]:
        """What depends on the permutations of `regions`, with the regions in `assigned` (id -> perm)
        taking those and all others as they are, from most to least important: transposes; those not next
        to a graph input or output (with equal counts transposes go to the boundary, where an NCHW model
        needs them anyway and where they do not stand between a conv and what folds into it); I/O left in
        its source layout though nhwc_io allows channels-last; reshapes (free, but they block fusion)."""
        edges = {id(e): e for r in regions for e in r.edges}.values()
        transposes = interior = reshapes = 0
        terms = [(self.tensor_cost(t, assigned.get(id(r), r.perm)), id(t) in self.io)
                 for r in regions for t in r.tensors]
        terms += [(self.edge_cost(e, assigned), id(e.src) in self.io or id(e.dst) in self.io) for e in edges]
        for (moves, views), at_boundary in terms:
            transposes += moves
            interior += 0 if at_boundary else moves
            reshapes += views
        penalty = sum(self.io_penalty(r, assigned.get(id(r), r.perm)) for r in regions)
        return transposes, interior, penalty, reshapes

    # -- solve ----------------------------------------------------------------------------------------
    def candidates(self, region: Region, assigned: dict) -> list[tuple]:
        found = [identity(region.rank)]
        for edge in region.edges:
            if self.region_of[id(edge.dst)] is region:
                found.extend(edge.dst_candidates(self.perm_in(edge.src, assigned)))
            if self.region_of[id(edge.src)] is region:
                found.extend(edge.src_candidates(self.perm_in(edge.dst, assigned)))
        found.extend(self.io_perm[id(t)] for t in region.tensors if id(t) in self.io_perm)
        return [p for p in dict.fromkeys(found) if self.feasible(region, p)]

    def feasible(self, region: Region, perm) -> bool:
        return all(rule.accepts(op, perm) for op, rule in region.ops)

    def flood(self, region: Region, perm: tuple) -> dict:
        """A joint move: `region` takes `perm`, then each neighbour across an edge joins with the candidate
        that suits the move best, if that does not raise its own cost. Joining never raises the total, so a
        change that only pays off several regions away (conv -> squeeze -> relu -> expand -> conv) is found."""
        move = {id(region): perm}
        order = [region]
        for here in order:
            for edge in here.edges:
                for other in (self.region_of[id(edge.src)], self.region_of[id(edge.dst)]):
                    if id(other) in move or id(other) not in self.solvable:
                        continue
                    stay = self.cost([other], move)
                    options = [(self.cost([other], {**move, id(other): p}), p)
                               for p in self.candidates(other, move) if p != other.perm]
                    better = [o for o in options if o[0] <= stay]
                    if better:
                        move[id(other)] = min(better, key=lambda o: o[0])[1]
                        order.append(other)
        return move

    def solve(self) -> None:
        for _ in range(MAX_ROUNDS):
            improved = False
            for region in self.regions:
                best, best_gain = None, (0, 0, 0, 0)
                for perm in self.candidates(region, {}):
                    if perm == region.perm:
                        continue
                    move = self.flood(region, perm)
                    touched = [self.solvable[key] for key in move]
                    before, after = self.cost(touched, {}), self.cost(touched, move)
                    gain = tuple(a - b for a, b in zip(after, before))
                    if gain < best_gain:
                        best, best_gain = move, gain
                if best is not None:
                    for key, perm in best.items():
                        self.solvable[key].perm = perm
                    improved = True
            if not improved:
                return

    def moved(self) -> list[Region]:
        return [r for r in self.regions if r.perm != identity(r.rank)]
