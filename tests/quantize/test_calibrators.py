"""The one-pass histogram and the four calibrators, on seeded synthetic activations."""
import numpy as np
import pytest

from edgepress.quantize import calibrators as C
from edgepress.quantize.calibrate import TensorStats
from edgepress.quantize.histogram import BINS, Histogram


def stats_of(batches) -> TensorStats:
    s = TensorStats(histogram=Histogram())
    for b in batches:
        s.add(np.asarray(b, np.float32))
    return s


def test_growing_histogram_equals_direct_histogram():
    """Adding batches of growing range (the width doubles several times) gives exactly the histogram of all
    the data at the final width."""
    rng = np.random.default_rng(1)
    batches = [rng.standard_normal(5000) * 4.0 ** i for i in range(5)]
    h = Histogram()
    for b in batches:
        h.add(b)
    direct, _ = np.histogram(np.concatenate(batches), bins=h.edges)
    assert h.width > 2 ** -10 * 4 ** 4  # it did grow
    np.testing.assert_array_equal(h.counts, direct)
    assert h.counts.sum() == 25000 and len(h.counts) == BINS


def test_minmax_and_percentile():
    rng = np.random.default_rng(2)
    x = rng.standard_normal(200_000)
    s = stats_of(np.split(x, 4))
    assert C.minmax(s) == (pytest.approx(x.min()), pytest.approx(x.max()))
    lo, hi = C.percentile(s, 99.9)
    width = s.histogram.width
    assert abs(hi - np.percentile(x, 99.9)) <= 2 * width
    assert abs(lo - np.percentile(x, 0.1)) <= 2 * width


def quant_mse(x, lo, hi):
    scale = (hi - lo) / 255
    zero = np.round(-lo / scale)
    q = np.clip(np.round(x / scale) + zero, 0, 255)
    return float(np.mean(((q - zero) * scale - x) ** 2))


def test_entropy_and_percentile_clip_heavy_tails_and_mse_minimizes_error():
    """Laplace-like activations with rare huge outliers: entropy and percentile clip them; mse picks a range
    whose squared error on the data is no worse than any of the others'."""
    rng = np.random.default_rng(3)
    x = np.concatenate([rng.laplace(size=100_000), [80.0, -60.0]])
    s = stats_of([x])
    errors = {name: quant_mse(x, *fn(s)) for name, fn in C.CALIBRATORS.items()}
    for name in ("entropy", "percentile"):
        lo, hi = C.CALIBRATORS[name](s)
        assert -40 < lo <= 0 <= hi < 40, name
    assert errors["mse"] <= min(errors.values()) * 1.02, errors


def test_nonnegative_tensor_keeps_zero_lower_bound():
    rng = np.random.default_rng(4)
    s = stats_of([np.maximum(rng.standard_normal(50_000), 0)])
    for name, fn in C.CALIBRATORS.items():
        assert fn(s)[0] == 0.0, name
