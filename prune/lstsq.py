"""Ridge least squares from running normal equations, with the ridge chosen by cross-validation.

    min ||A W - Y||^2 + lam ||W - W0||^2   =>   (A'A + lam I) W = A'Y + lam W0

A holds the features plus a column of ones (the bias), W0 the current weights and bias: the fit is pulled
towards them, not towards zero. Sums are kept per fold (calibration samples alternate between two folds), so
every candidate lam is fit on one fold and scored on the other from the sums alone (||A W - Y||^2 expands
into W'A'AW - 2 W'A'Y + Y'Y). One eigendecomposition per fit serves every lam. The lam with the lowest
held-out error wins; if keeping W0 scores better still, nothing is refit: few samples (a layer after global
pooling sees one row per sample) must not buy a perfect fit on the calibration set and a worse model.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# candidate lam, relative to the mean diagonal of A'A
RIDGES = (1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1.0, 10.0, 100.0)


class Normal:
    """Running sums A'A, A'Y, Y'Y."""

    def __init__(self, nf: int, no: int):
        self.ata = np.zeros((nf + 1, nf + 1))
        self.aty = np.zeros((nf + 1, no))
        self.yy = 0.0

    def add(self, x: np.ndarray, y: np.ndarray) -> None:
        a = np.concatenate([x.astype(np.float64), np.ones((len(x), 1))], axis=1)
        self.ata += a.T @ a
        self.aty += a.T @ y
        self.yy += float(np.square(y).sum())

    def __add__(self, other: "Normal") -> "Normal":
        out = Normal(len(self.ata) - 1, self.aty.shape[1])
        out.ata, out.aty, out.yy = self.ata + other.ata, self.aty + other.aty, self.yy + other.yy
        return out

    def residual(self, w: np.ndarray) -> float:
        """||A W - Y||^2"""
        return max(self.yy - 2 * float((w * self.aty).sum()) + float((w * (self.ata @ w)).sum()), 0.0)

    def scale(self) -> float:
        return float(np.trace(self.ata)) / len(self.ata) or 1.0


class Ridge:
    """Solutions of one set of normal equations for any lam, from one eigendecomposition."""

    def __init__(self, eq: Normal, w0: np.ndarray):
        self.vals, self.vecs = np.linalg.eigh(eq.ata)
        self.vals = np.maximum(self.vals, 0.0)
        self.eq, self.w0 = eq, w0

    def solve(self, lam: float) -> np.ndarray:
        rhs = self.vecs.T @ (self.eq.aty + lam * self.w0)
        return self.vecs @ (rhs / (self.vals + lam)[:, None])


@dataclass
class Fit:
    weights: np.ndarray  # (features + 1, outputs): W over the bias row
    ridge: float | None  # the chosen lam relative to the mean diagonal; None when W0 was kept
    error_before: float  # relative error ||A W0 - Y|| / ||Y|| on all samples
    error_after: float


def fit(folds: list, w0: np.ndarray) -> Fit:
    """Refit from the per-fold sums (two folds; an empty second fold skips validation)."""
    total = folds[0] + folds[1]
    norm = max(total.yy, 1e-30)
    before = np.sqrt(total.residual(w0) / norm)
    scale = total.scale()
    if folds[1].yy > 0 and folds[0].yy > 0:
        held_out = {lam: 0.0 for lam in RIDGES}
        for train, test in ((folds[0], folds[1]), (folds[1], folds[0])):
            ridge = Ridge(train, w0)
            for lam in RIDGES:
                held_out[lam] += test.residual(ridge.solve(lam * scale))
        best = min(RIDGES, key=lambda lam: held_out[lam])
        if held_out[best] >= folds[0].residual(w0) + folds[1].residual(w0):
            return Fit(w0, None, before, before)
    else:
        best = RIDGES[2]
    w = Ridge(total, w0).solve(best * scale)
    after = np.sqrt(total.residual(w) / norm)
    if after >= before:
        return Fit(w0, None, before, before)
    return Fit(w, best, before, after)
