"""Quantization parameters by the TFLite rules: activations asymmetric (int8/uint8) with real 0 exact or
symmetric (int16), weights symmetric per channel in [-127, 127], biases at input scale x weight scale."""
import numpy as np
import pytest

from edgepress.convert.ir import QuantParams
from edgepress.quantize import params as P


@pytest.mark.parametrize("lo,hi", [(-1.3, 4.7), (0.0, 6.0), (-8.0, -2.0), (0.5, 3.0), (-1e-4, 2e-4)])
@pytest.mark.parametrize("dtype", ["int8", "uint8"])
def test_activation_params_cover_range_and_zero(lo, hi, dtype):
    q = P.activation_params(lo, hi, dtype)
    qmin, qmax = np.iinfo(dtype).min, np.iinfo(dtype).max
    assert q.scale.size == 1 and q.scale[0] > 0
    assert qmin <= q.zero_point[0] <= qmax
    x = np.array([min(lo, 0), 0.0, max(hi, 0)], np.float32)
    back = P.dequantize_array(P.quantize_array(x, q, dtype), q)
    assert back[1] == 0.0  # zero padding is exact
    # the whole range is representable up to one step plus the nudge of the zero point
    assert np.all(np.abs(back - x) <= 1.01 * q.scale[0])


def test_int16_activation_params_are_symmetric():
    q = P.activation_params(-0.5, 3.0, "int16")
    assert q.zero_point[0] == 0
    assert q.scale[0] == np.float32(3.0 / 32767)


def test_weight_params_per_channel_symmetric():
    rng = np.random.default_rng(0)
    w = rng.standard_normal((4, 3, 3, 6)).astype(np.float32) * np.arange(1, 7, dtype=np.float32)
    w[..., 2] = 0  # an all-zero channel still gets a usable positive scale
    q = P.weight_params(w, axis=3)
    assert q.axis == 3 and q.scale.size == 6 and np.all(q.zero_point == 0) and np.all(q.scale > 0)
    qw = P.quantize_array(w, q, "int8", narrow=True)
    assert qw.min() >= -127 and qw.max() <= 127
    assert np.abs(qw).reshape(-1, 6).max(axis=0)[[0, 1, 3, 4, 5]].tolist() == [127] * 5
    np.testing.assert_allclose(P.dequantize_array(qw, q), w, atol=float(q.scale.max()) / 2 + 1e-7)


def test_bias_scale_is_input_times_weight_scale():
    xq = QuantParams(np.float32(0.02), 3)
    wq = QuantParams(np.array([0.1, 0.003], np.float32), np.zeros(2, np.int64))
    bq = P.bias_params(xq, wq)
    np.testing.assert_allclose(bq.scale, [0.002, 0.00006], rtol=1e-6)
    assert np.all(bq.zero_point == 0)
    b = P.quantize_bias(np.array([1.0, -0.3]), bq, "int32")
    assert b.dtype == np.int32 and b.tolist() == [500, -5000]


def test_quantize_rounds_half_away_from_zero_and_clamps():
    q = QuantParams(np.float32(0.5), 0)
    x = np.array([0.25, -0.25, 0.75, -0.75, 1000, -1000], np.float32)
    assert P.quantize_array(x, q, "int8").tolist() == [1, -1, 2, -2, 127, -128]
