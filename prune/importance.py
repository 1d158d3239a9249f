"""Channel importance: how much of each weighted consumer's output a channel class carries.

For a consumer with weights W reading input x, position p contributes about E[x_p^2] * ||W[:, p]||^2 to the
energy of the consumer's output (exact for uncorrelated inputs); divided by the mean over the consumer's
input positions, 1 is an average channel of that consumer whatever its width, so scores compare across
layers. A class scores the sum over every consumer reading it.
Without calibration data E[x_p^2] is replaced by the squared norm of the producing rows (weights and bias)
of the class, a weights-only estimate of the same quantity.
"""
from __future__ import annotations

import numpy as np

from .channels import Analysis, Consumer


def column_energy(c: Consumer) -> np.ndarray:
    """||W[:, p]||^2 for every position p of the consumer's input (grouped convs: per group's rows)."""
    w = np.square(c.op.inputs[c.weights].data.astype(np.float64))
    if c.op.type == "FULLY_CONNECTED":
        return w.sum(0)
    if c.groups > 1:
        per_out = w.sum(axis=(1, 2))  # (cout, cg)
        return per_out.reshape(c.groups, -1, per_out.shape[1]).sum(1).reshape(-1)
    return w.sum(axis=(0, 1, 2))


def producer_energy(a: Analysis) -> dict:
    """Class root -> mean squared norm of the weight rows and bias that produce it."""
    totals: dict[int, list] = {}
    for key, op in a.producers.items():
        w = op.inputs[1].data.astype(np.float64)
        rows = np.square(w).reshape(w.shape[0], -1).sum(1)
        bias_index = 3 if op.type == "TRANSPOSE_CONV" else 2
        bias = op.inputs[bias_index] if bias_index < len(op.inputs) else None
        if bias is not None:
            rows = rows + np.square(bias.data.astype(np.float64))
        for r, e in zip(a.roots(key).tolist(), rows.tolist()):
            totals.setdefault(r, []).append(e)
    return {r: float(np.mean(v)) for r, v in totals.items()}


def class_scores(a: Analysis, energy: dict | None) -> dict:
    """Class root -> importance (sum over consumers of its output energy relative to their mean channel)."""
    fallback = producer_energy(a) if energy is None else None
    scores: dict[int, float] = {}
    for c in a.consumers:
        roots = a.roots(id(c.tensor))
        col = column_energy(c)
        if energy is not None and c.tensor.name in energy:
            x2 = energy[c.tensor.name]
        else:
            x2 = np.array([(fallback or {}).get(r, 1.0) for r in roots.tolist()])
        share = x2 * col
        mean = share.mean()
        if mean <= 0:
            continue
        for r, s in zip(roots.tolist(), (share / mean).tolist()):
            scores[r] = scores.get(r, 0.0) + s
    return scores
