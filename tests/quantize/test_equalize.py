"""Cross-layer equalization (quantize/equalize.py): exact in float, ranges evened out, and int8 error down on
a depthwise-separable chain whose channels differ by orders of magnitude, as folded BatchNorm leaves them."""
import numpy as np
import onnx
import pytest

from edgepress.quantize import quantize
from edgepress.quantize.equalize import WEIGHT_AXES, equalize, find_pairs
from edgepress.quantize.params import channel_absmax

from qmodels import Net, loaded


def separable(seed: int = 5, activation: str = "Relu") -> onnx.ModelProto:
    """conv -> relu -> depthwise -> relu -> 1x1 conv -> relu -> depthwise -> relu -> 1x1 conv, each conv's
    output channels scaled by factors spread over 10^-2 .. 10^1 (BatchNorm folded into it)."""
    n = Net(seed)

    def conv(x, cin, cout, name, group=1, k=3):
        fan_in = k * k * cin // group
        w = n.rng.standard_normal((cout, cin // group, k, k)).astype(np.float32) * np.float32(1.5 / np.sqrt(fan_in))
        spread = (10.0 ** n.rng.uniform(-2, 1, cout)).astype(np.float32)
        b = (n.rng.standard_normal(cout) * 0.1).astype(np.float32) * spread
        return n.node("Conv", [x, n.const(w * spread[:, None, None, None]), n.const(b)], name,
                      kernel_shape=[k, k], pads=[k // 2] * 4, group=group)

    def act(x, name):
        if activation == "Relu":
            return n.node("Relu", [x], name)
        return n.node("Clip", [x, n.const(np.float32(0)), n.const(np.float32(6))], name)

    h = act(conv("x", 3, 16, "stem"), "a1")
    h = act(conv(h, 16, 16, "dw1", group=16), "a2")
    h = act(conv(h, 16, 24, "pw1", k=1), "a3")
    h = act(conv(h, 24, 24, "dw2", group=24), "a4")
    conv(h, 24, 8, "pw2", k=1)
    return n.model({"x": [1, 3, 16, 16]}, ["pw2"])


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    return loaded(separable(), tmp_path_factory.mktemp("m"), "separable")


def test_equalization_is_exact_in_float_and_evens_ranges(model):
    ir, _, held_out = model
    equalized, pairs = equalize(ir)
    assert pairs == 4  # stem-dw1, dw1-pw1, pw1-dw2, dw2-pw2
    for feeds in held_out:
        (want,), (got,) = ir.run(feeds).values(), equalized.run(feeds).values()
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4 * float(np.max(np.abs(want))))
    for p, q in zip(find_pairs(ir.graph), find_pairs(equalized.graph), strict=True):
        spread = [np.ptp(np.log10(channel_absmax(o.inputs[1].data, WEIGHT_AXES[o.type][0])))
                  for o in (p.first, q.first)]
        assert spread[1] < spread[0] - 1, p.first.label  # an order of magnitude less spread between channels


def test_equalization_lowers_int8_error(model):
    ir, calibration, held_out = model
    sqnr = {}
    for flag in (False, True):
        _, report = quantize(ir, "int8", calibration=calibration + held_out, report_samples=len(held_out) + 16,
                             equalize=flag)
        assert report.equalized_pairs == (4 if flag else 0)
        assert min(r.metrics.sqnr_db for r in report.layers) > 10  # rows compare like with like
        sqnr[flag] = report.outputs["pw2"].sqnr_db
    print(f"\nint8 output SQNR: {sqnr[False]:.1f} dB plain, {sqnr[True]:.1f} dB equalized")
    assert sqnr[True] >= sqnr[False] + 6


def test_relu6_ends_a_chain(tmp_path):
    ir, _, _ = loaded(separable(activation="Relu6"), tmp_path, "relu6")
    _, pairs = equalize(ir)
    assert pairs == 0  # RELU6 is not scale-free: relu6(x / s) != relu6(x) / s


def test_a_qdq_source_is_refused(model):
    from edgepress.errors import UsageError
    ir, calibration, _ = model
    qdq_like = equalize(ir)[0]  # any copy: mark one activation as a QDQ source's
    next(op for op in qdq_like.ops() if op.type == "CONV_2D").outputs[0].qdq_range = (0.0, 1.0)
    with pytest.raises(UsageError, match="--equalize"):
        quantize(qdq_like, "int8", calibration=calibration, equalize=True)
