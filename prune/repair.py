"""Repair without training: refit every CONV_2D and FULLY_CONNECTED whose input channels were removed so its
output matches the unpruned model's.

The unpruned and the pruned graph are walked side by side over the calibration samples (stream.Walk).
Before a shrunk consumer runs, its kept output channels' pre-activation values in the unpruned model are
the targets Y, its (already pruned and repaired upstream) inputs, as convolution patches, the features X;
W and the bias solve the ridge-regularized least squares
    min ||[X 1] [W; b] - Y||^2 + lam ||[W; b] - [W0; b0]||^2
in closed form through the normal equations, pulled towards the pruned weights (lstsq.py; lam chosen by
cross-validation over the samples, no refit where that validates worse). Grouped convolutions solve each
group alone. Rows are subsampled (seeded) to bound the cost on large feature maps.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from edgepress.convert.ir import Op, Tensor
from edgepress.convert.passes.edit import Names
from edgepress.convert.reference import evaluate_op
from edgepress.convert.reference.window import patches

from .lstsq import Normal, fit
from .stream import Walk

REFITTABLE = ("CONV_2D", "FULLY_CONNECTED")
MAX_ROWS = 4096  # feature rows drawn per sample and layer


@dataclass
class Refit:
    layer: str
    op_type: str
    error_before: float  # relative L2 error of the pre-activation output vs the unpruned model
    error_after: float
    applied: bool
    ridge: float | None  # the ridge cross-validation chose (relative to the mean diagonal of A'A)


def features(op: Op, x: np.ndarray, groups: int, seed: int) -> tuple[list, np.ndarray]:
    """Per group, the inputs each of a subsample of output positions is computed from, as (rows, features),
    and the flat indices of those positions."""
    if op.type == "FULLY_CONNECTED":
        flat = x.reshape(-1, x.shape[-1])
        pick = rows(len(flat), seed)
        return [flat[pick]], pick
    o = op.options
    w = op.inputs[1]
    p = patches(x, (w.shape[1], w.shape[2]), (o["stride_h"], o["stride_w"]),
                (o["dilation_h_factor"], o["dilation_w_factor"]), o["padding"])
    pick = rows(int(np.prod(p.shape[:3])), seed)
    taken = p.reshape((-1,) + p.shape[3:]) if isinstance(pick, slice) else p[np.unravel_index(pick, p.shape[:3])]
    cg = x.shape[-1] // groups
    return [taken[..., g * cg:(g + 1) * cg].reshape(len(taken), -1) for g in range(groups)], pick


def weight_matrix(w: np.ndarray, groups: int, g: int) -> np.ndarray:
    """(features, outputs of group g) in the order features() lays them out."""
    og = w.shape[0] // groups
    return w[g * og:(g + 1) * og].reshape(og, -1).T.astype(np.float64)


def rows(n: int, seed: int) -> np.ndarray | slice:
    if n <= MAX_ROWS:
        return slice(None)
    return np.sort(np.random.default_rng(seed).choice(n, MAX_ROWS, replace=False))


def pre_activation(op: Op, args: list) -> np.ndarray:
    plain = Op(op.type, op.inputs, op.outputs, {**op.options, "fused_activation_function": "NONE"})
    return evaluate_op(plain, args)[0]


def refit(i: int, walk: Walk, op0: Op, op1: Op, out_keep: np.ndarray, groups: int, names: Names) -> Refit:
    xs = walk.fetch(1, op1.inputs[0])
    args0 = [None if t is None else walk.fetch(0, t) for t in op0.inputs]
    w1 = op1.inputs[1].data
    bias = op1.inputs[2] if len(op1.inputs) > 2 else None
    b1 = bias.data if bias is not None else np.zeros(w1.shape[0], np.float32)
    og = w1.shape[0] // groups
    folds = None  # per group, the normal equations of even and of odd samples
    for s, x in enumerate(xs):
        y = pre_activation(op0, [None if a is None else a[s] for a in args0])
        feats, pick = features(op1, x, groups, seed=i * 1009 + s)
        y = y.reshape(-1, y.shape[-1])[pick][:, out_keep].astype(np.float64)
        if folds is None:
            folds = [[Normal(f.shape[1], og), Normal(f.shape[1], og)] for f in feats]
        for g, f in enumerate(feats):
            folds[g][s % 2].add(f, y[:, g * og:(g + 1) * og])
    new_w, new_b = w1.copy(), b1.copy()
    before = after = total = 0.0
    ridges = []
    for g, pair in enumerate(folds):
        rows_g = slice(g * og, (g + 1) * og)
        w0 = np.vstack([weight_matrix(w1, groups, g), b1[rows_g][None].astype(np.float64)])
        result = fit(pair, w0)
        yy = pair[0].yy + pair[1].yy
        before, after, total = before + result.error_before ** 2 * yy, after + result.error_after ** 2 * yy, total + yy
        ridges.append(result.ridge)
        new_w[rows_g] = result.weights[:-1].T.reshape((og,) + w1.shape[1:])
        new_b[rows_g] = result.weights[-1]
    applied = any(r is not None for r in ridges)
    if applied:
        set_weights(op1, new_w, new_b, names)
    total = total or 1e-30
    return Refit(op1.label, op1.type, float(np.sqrt(before / total)), float(np.sqrt(after / total)), applied,
                 max((r for r in ridges if r is not None), default=None))


def set_weights(op: Op, w: np.ndarray, b: np.ndarray, names: Names) -> None:
    """Weights were cut for this op alone (shrink copies shared constants), so they change in place; a
    missing bias becomes a new constant."""
    op.inputs[1].data = w.astype(np.float32)
    if len(op.inputs) > 2 and op.inputs[2] is not None:
        op.inputs[2].data = b.astype(np.float32)
        return
    op.inputs.extend([None] * (3 - len(op.inputs)))
    op.inputs[2] = Tensor.constant(names(f"{op.outputs[0].name}/bias"), b.astype(np.float32), sources=op.sources)


def repair(original, pruned, feeds: list, targets: dict, extra=()) -> tuple[list, list]:
    """Refit the ops at the indices of `targets` (op index -> (output keep mask, groups)) of graph `pruned`
    against graph `original`. `extra` graphs with the same ops are evaluated alongside. Returns the Refit
    rows and the outputs of every walked graph (original, pruned, *extra), per sample."""
    walk = Walk([original, pruned, *extra], feeds)
    names = Names(pruned)
    done = []

    def visit(i, w):
        if i in targets:
            keep, groups = targets[i]
            done.append(refit(i, w, original.ops[i], pruned.ops[i], keep, groups, names))

    outputs = walk.run(visit)
    return done, outputs
