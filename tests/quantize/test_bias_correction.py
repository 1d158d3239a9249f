"""Bias correction cancels the mean output shift that quantized weights cause: on the calibration data,
E[x W_q^T + b_corrected] equals E[x W^T + b] per channel (up to the bias's own rounding), for int8 (int32
bias) and dynamic range (float bias), and for grouped and depthwise convolutions."""
import numpy as np
import pytest

from edgepress.convert.reference import conv as float_conv
from edgepress.quantize.bias_correction import corrected_bias
from edgepress.quantize.calibrate import collect
from edgepress.quantize.calibrators import ranges
from edgepress.quantize.dynamic import quantize_dynamic
from edgepress.quantize.integer import quantize_integer
from edgepress.quantize.params import dequantize_array

from qgraphs import UNIT, Builder


def fc_model():
    b = Builder(7)
    x = b.input("x", (4, 64))
    y = b.op("FULLY_CONNECTED", [x, b.const((32, 64), 0.2), b.const(32, 0.1)], (4, 32), name="fc")
    return b.model([x], [y])


def samples(n=8):
    rng = np.random.default_rng(8)
    return [{"x": rng.uniform(0, 3, (4, 64)).astype(np.float32)} for _ in range(n)]  # inputs with a large mean


def mean_shift(w, b, wq, bq, feeds):
    x = np.concatenate([f["x"] for f in feeds]).astype(np.float64)
    return (x @ wq.T.astype(np.float64) + bq).mean(0) - (x @ w.T.astype(np.float64) + b).mean(0)


@pytest.mark.parametrize("scheme", ["int8", "dynamic"])
def test_fully_connected_mean_shift_vanishes(scheme):
    model, feeds = fc_model(), samples()
    cal = collect(model, feeds, histograms=False, channel_means={"x"})
    means = {"x": cal.stats["x"].channel_mean}
    op = model.graph.ops[0]
    w, b = op.inputs[1].data, op.inputs[2].data
    shifts = {}
    for corrected in (False, True):
        m = means if corrected else None
        if scheme == "int8":
            q = quantize_integer(model, ranges(cal.stats, "minmax"), means=m).model
        else:
            q, _ = quantize_dynamic(model, means=m)
        fc = next(o for o in q.graph.ops if o.type == "FULLY_CONNECTED")
        wt, bt = fc.inputs[1], fc.inputs[2]
        bq = dequantize_array(bt.data, bt.quant) if bt.quant is not None else bt.data
        shifts[corrected] = np.abs(mean_shift(w, b, dequantize_array(wt.data, wt.quant), bq, feeds))
    bias_step = 0.0 if scheme == "dynamic" else float(bt.quant.scale.max())
    assert shifts[False].max() > 20 * (shifts[True].max() - bias_step / 2)
    assert np.all(shifts[True] <= bias_step / 2 + 1e-4)


# a grouped 1x1 convolution (4 input channels, 2 per group) and a 3x3 depthwise one with multiplier 2
@pytest.mark.parametrize("op_type,shape", [("CONV_2D", (6, 1, 1, 2)), ("DEPTHWISE_CONV_2D", (1, 3, 3, 8))])
def test_convolution_shift_formula_matches_the_convolution(op_type, shape):
    """The closed form equals the mean difference of the float convolution itself on a constant input (no
    borders: 1x1 kernels, or VALID padding)."""
    rng = np.random.default_rng(9)
    channels = 4
    w = rng.standard_normal(shape).astype(np.float32)
    wq = w + rng.normal(0, 0.01, shape).astype(np.float32)
    mean = rng.uniform(0, 2, channels)
    x = np.broadcast_to(mean.astype(np.float32), (1, 5, 5, channels)).copy()
    b = Builder(0)
    options = {**UNIT, "padding": "VALID"}
    if op_type == "DEPTHWISE_CONV_2D":
        options["depth_multiplier"] = 2
    b.op(op_type, [b.input("x", x.shape), b.const(shape), b.const(shape[0] if op_type == "CONV_2D" else 8)],
             (), options)
    op = b.ops[0]
    fn = float_conv.conv_2d if op_type == "CONV_2D" else float_conv.depthwise_conv_2d
    expected = (fn(op, x, wq) - fn(op, x, w)).astype(np.float64).mean(axis=(0, 1, 2))
    bias = np.zeros(expected.size, np.float32)
    np.testing.assert_allclose(bias - corrected_bias(op, bias, w, wq, mean), expected, rtol=1e-4, atol=1e-6)
