"""Evaluate graphs op by op over all calibration samples at once, so that a pass can look at (and change)
an op's inputs and constants before it runs: importance statistics read activations, repair refits an
op's weights from its inputs, with the graphs before and after pruning walked side by side. Values are
kept only until their last reader, so a deep model does not hold every activation of every sample."""
from __future__ import annotations

import math

import numpy as np

from edgepress.convert.ir import Graph
from edgepress.convert.reference import evaluate_op


def last_reads(graph: Graph) -> dict:
    """id(tensor) -> index of the last op reading it (graph outputs are never dropped)."""
    last = {}
    for i, op in enumerate(graph.ops):
        for t in op.inputs:
            if t is not None:
                last[id(t)] = i
    for t in graph.outputs:
        last[id(t)] = math.inf
    return last


class Walk:
    """Graphs with the same ops in the same order (a model and its pruned copy), evaluated side by side."""

    def __init__(self, graphs: list, feeds: list):
        self.graphs = graphs
        self.n = len(feeds)
        self.values = []
        self.last = [last_reads(g) for g in graphs]
        for g in graphs:
            self.values.append({id(t): [np.asarray(f[t.name]).astype(t.dtype, copy=False) for f in feeds]
                                for t in g.inputs})

    def fetch(self, k: int, t) -> list:
        """The value of tensor `t` of graph k, one array per sample."""
        if t.is_constant and id(t) not in self.values[k]:
            return [t.data] * self.n
        return self.values[k][id(t)]

    def run(self, visit=None) -> list:
        """Run every op; visit(i, walk) is called before op i and may change its constants.
        Returns, per graph, a list over samples of {output name: value}."""
        for i in range(len(self.graphs[0].ops)):
            if visit is not None:
                visit(i, self)
            for k, g in enumerate(self.graphs):
                self.step(k, g.ops[i], i)
        return [[{t.name: self.fetch(k, t)[s] for t in g.outputs} for s in range(self.n)]
                for k, g in enumerate(self.graphs)]

    def step(self, k: int, op, i: int) -> None:
        args = [None if t is None else self.fetch(k, t) for t in op.inputs]
        results = [evaluate_op(op, [None if a is None else a[s] for a in args]) for s in range(self.n)]
        values = self.values[k]
        for j, t in enumerate(op.outputs):
            if id(t) in self.last[k]:  # an output nothing reads is not kept
                values[id(t)] = [r[j] for r in results]
        for t in op.inputs:
            if t is not None and self.last[k].get(id(t)) == i:
                values.pop(id(t), None)


def run_all(graph: Graph, feeds: list, visit=None) -> list:
    """Outputs of one graph on every feed (a list of {output name: value})."""
    return Walk([graph], feeds).run(visit)[0]
