"""Calibrators: a tensor's statistics -> the real range [lo, hi] its quantization covers.

minmax covers everything seen; percentile clips the rarest tails; mse picks the clipping range with the
least expected squared quantization error; entropy picks the one whose quantized distribution diverges
least (KL) from the observed one. The last three read the histogram; all keep 0 inside the range.
"""
from __future__ import annotations

import numpy as np

from .calibrate import TensorStats
from .histogram import BINS

LEVELS = 256  # int8; the int16 scheme calibrates with the same ranges
PERCENTILE = 99.99
CANDIDATES = 128


def minmax(stats: TensorStats) -> tuple[float, float]:
    return stats.min, stats.max


def percentile(stats: TensorStats, p: float = PERCENTILE) -> tuple[float, float]:
    """The (100 - p)% and p% quantiles (bin edges), within the seen min and max."""
    h = stats.histogram
    cdf = np.cumsum(h.counts) / max(h.counts.sum(), 1)
    edges = h.edges
    lo = edges[np.searchsorted(cdf, (100 - p) / 100, side="left")]
    hi = edges[min(np.searchsorted(cdf, p / 100, side="left") + 1, len(edges) - 1)]
    return max(stats.min, min(lo, 0.0)), min(stats.max, max(hi, 0.0))


def _candidates(stats: TensorStats) -> np.ndarray:
    """Ranges shrunk from the full [min, max] toward 0 by factors in (0, 1]: shape (CANDIDATES, 2)."""
    lo, hi = min(stats.min, 0.0), max(stats.max, 0.0)
    f = np.linspace(1.0 / CANDIDATES, 1.0, CANDIDATES)[:, None]
    return np.concatenate([lo * f, hi * f], axis=1)


def _quantized_centers(centers: np.ndarray, ranges: np.ndarray, levels: int) -> np.ndarray:
    """Each histogram bin center quantized and dequantized on each candidate range: (candidates, bins)."""
    lo, hi = ranges[:, :1], ranges[:, 1:]
    scale = np.maximum((hi - lo) / (levels - 1), 1e-30)
    zero = np.round(-lo / scale)
    q = np.clip(np.round(centers[None, :] / scale) + zero, 0, levels - 1)
    return (q - zero) * scale


def mse(stats: TensorStats) -> tuple[float, float]:
    h = stats.histogram
    used = h.counts > 0
    centers, counts = h.centers[used], h.counts[used]
    ranges = _candidates(stats)
    err = ((_quantized_centers(centers, ranges, LEVELS) - centers) ** 2 * counts).sum(axis=1)
    best = ranges[int(np.argmin(err))]
    return float(best[0]), float(best[1])


def entropy(stats: TensorStats) -> tuple[float, float]:
    """KL divergence between the clipped histogram P (outliers folded into the edge bins) and its
    quantized version Q (each quantization level spreads its mass evenly over the nonzero bins it
    covers), for each candidate range; the range with the smallest divergence wins (TensorRT's method,
    on asymmetric ranges)."""
    h = stats.histogram
    counts = h.counts.astype(np.float64)
    counts[BINS // 2] -= h.zeros  # exact zeros (ReLU's clamp) are exact at any range; they only blur Q
    used = np.nonzero(counts)[0]
    if used.size == 0:
        return minmax(stats)
    centers = h.centers[used[0]:used[-1] + 1]
    counts = counts[used[0]:used[-1] + 1]
    best, best_kl = None, np.inf
    for lo, hi in _candidates(stats):
        kl = _kl_for_range(centers, counts, lo, hi)
        if kl < best_kl:
            best, best_kl = (float(lo), float(hi)), kl
    return best or minmax(stats)


def _kl_for_range(centers: np.ndarray, counts: np.ndarray, lo: float, hi: float) -> float:
    """P carries the clipped mass in its edge bins, Q is built from the bins inside only, so clipping
    costs divergence as much as coarse levels do."""
    inside = (centers >= lo) & (centers <= hi)
    if not inside.any():
        return np.inf
    inner = counts[inside]
    p = inner.copy()
    p[0] += counts[centers < lo].sum()
    p[-1] += counts[centers > hi].sum()
    scale = max((hi - lo) / (LEVELS - 1), 1e-30)
    level = np.round((centers[inside] - lo) / scale).astype(np.int64)
    mass = np.bincount(level, weights=inner)
    nonzero = np.bincount(level, weights=(inner > 0).astype(np.float64))
    q = np.where(inner > 0, mass[level] / np.maximum(nonzero[level], 1), 0.0)
    p, q = p / p.sum(), q / max(q.sum(), 1e-30)
    keep = p > 0
    return float(np.sum(p[keep] * np.log(p[keep] / np.maximum(q[keep], 1e-12))))


CALIBRATORS = {"minmax": minmax, "percentile": percentile, "mse": mse, "entropy": entropy}
NEEDS_HISTOGRAM = frozenset({"percentile", "mse", "entropy"})


def ranges(stats: dict, calibrator: str) -> dict:
    """tensor name -> (lo, hi) for every tensor seen in calibration."""
    fn = CALIBRATORS[calibrator]
    return {name: fn(s) if s.min <= s.max else (0.0, 0.0) for name, s in stats.items()}
