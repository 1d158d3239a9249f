"""A histogram that grows with the data in one pass, exactly: bins [k*w, (k+1)*w) aligned on 0 with a
power-of-two width w; when a value falls outside, w doubles and bin pairs merge (no re-binning error)."""
from __future__ import annotations

import math

import numpy as np

BINS = 4096  # covering [-BINS/2 * w, BINS/2 * w)


class Histogram:
    def __init__(self):
        self.width: float | None = None
        self.counts = np.zeros(BINS, np.int64)
        self.zeros = 0  # values exactly 0 (in bin BINS // 2), e.g. what a ReLU clamps

    @property
    def edges(self) -> np.ndarray:
        return (np.arange(BINS + 1) - BINS // 2) * (self.width or 1.0)

    @property
    def centers(self) -> np.ndarray:
        return (np.arange(BINS) - BINS // 2 + 0.5) * (self.width or 1.0)

    def add(self, x: np.ndarray, lo: float | None = None, hi: float | None = None) -> None:
        """Add finite values; lo/hi (the values' min and max, when the caller has them) save a pass."""
        x = np.ravel(x)
        if lo is None:
            x = x[np.isfinite(x)]
            if not x.size:
                return
            lo, hi = float(x.min()), float(x.max())
        reach = max(abs(lo), abs(hi), np.finfo(np.float32).tiny)
        if self.width is None:
            self.width = 2.0 ** math.ceil(math.log2(reach / (BINS // 2 - 1)))
        while reach >= (BINS // 2) * self.width:
            self._double()
        # The width is a power of two, so x / width is exact in float32 and floor gives the true bin.
        k = np.floor(x * np.float32(1.0 / self.width)).astype(np.int32)
        k += BINS // 2
        np.clip(k, 0, BINS - 1, out=k)
        self.counts += np.bincount(k, minlength=BINS)
        self.zeros += int(x.size - np.count_nonzero(x))

    def _double(self) -> None:
        """Bin k becomes floor(k / 2): pairs merge into the middle half of the array."""
        merged = self.counts.reshape(-1, 2).sum(axis=1)
        self.counts = np.zeros(BINS, np.int64)
        self.counts[BINS // 4: BINS // 4 + merged.size] = merged
        self.width *= 2
