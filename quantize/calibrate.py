"""Calibration: one pass over the samples with the reference evaluator, collecting every float tensor's
statistics (min, max and, for the calibrators that need it, a histogram)."""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from edgepress.convert.ir import Model
from edgepress.errors import UsageError

from .histogram import Histogram

HISTOGRAM_VALUES = 1 << 18  # per tensor and sample


@dataclass
class TensorStats:
    min: float = np.inf
    max: float = -np.inf
    histogram: Histogram | None = None
    channel_sum: np.ndarray | None = None  # per last-axis channel, when asked for (bias correction)
    channel_count: int = 0

    @property
    def channel_mean(self) -> np.ndarray | None:
        return None if self.channel_sum is None else self.channel_sum / max(self.channel_count, 1)

    def add_channels(self, x: np.ndarray) -> None:
        rows = x.reshape(-1, x.shape[-1] if x.ndim else 1)
        total = rows.sum(axis=0, dtype=np.float64)
        self.channel_sum = total if self.channel_sum is None else self.channel_sum + total
        self.channel_count += rows.shape[0]

    def add(self, x: np.ndarray) -> None:
        if not x.size:
            return
        lo, hi = float(x.min()), float(x.max())
        if not (np.isfinite(lo) and np.isfinite(hi)):  # rare: filter, then measure again
            x = x[np.isfinite(x)]
            if not x.size:
                return
            lo, hi = float(x.min()), float(x.max())
        self.min, self.max = min(self.min, lo), max(self.max, hi)
        if self.histogram is not None:
            # Histograms take an evenly strided subset of a large tensor (its min and max come from all of
            # it): over many samples that is plenty for a distribution, at a fraction of the time.
            self.histogram.add(x.reshape(-1)[::subset_stride(x.shape)], lo, hi)


def subset_stride(shape: tuple) -> int:
    """A stride giving about HISTOGRAM_VALUES values, coprime with the last (channel) dimension so that the
    subset visits every channel."""
    size = int(np.prod(shape))
    stride = max(1, -(-size // HISTOGRAM_VALUES))
    channels = shape[-1] if shape else 1
    while stride > 1 and math.gcd(stride, channels) != 1:
        stride += 1
    return stride


@dataclass
class Calibration:
    stats: dict = field(default_factory=dict)  # tensor name -> TensorStats
    samples: list = field(default_factory=list)  # the first few feeds, kept for the report
    count: int = 0  # samples seen
    seconds: float = 0.0


def collect(model: Model, samples, histograms: bool, keep_samples: int = 8, channel_means=()) -> Calibration:
    """Run the float model on every sample; statistics of every float32 activation (graph inputs included),
    and per-channel means of the tensors named in `channel_means`."""
    import time
    start = time.perf_counter()
    channel_means = frozenset(channel_means)
    graph = model.graph
    floats = {t.name for t in graph.tensors() if t.dtype == "float32" and not t.is_constant}
    result = Calibration()
    for feeds in samples:
        if len(result.samples) < keep_samples:
            result.samples.append(feeds)
        values = model.run(feeds, keep_intermediates=True)
        result.count += 1
        for t in graph.inputs:
            values[t.name] = np.asarray(feeds[t.name])
        for name, value in values.items():
            if name in floats:
                stats = result.stats.get(name)
                if stats is None:
                    stats = result.stats[name] = TensorStats(histogram=Histogram() if histograms else None)
                value = np.asarray(value, np.float32)
                stats.add(value)
                if name in channel_means:
                    stats.add_channels(value)
    if not result.samples:
        raise UsageError("the calibration data holds no samples")
    result.seconds = time.perf_counter() - start
    return result
