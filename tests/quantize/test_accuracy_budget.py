"""Accuracy-budget mode: the measured most sensitive layer is kept float first, the budget is met with the
fewest float layers, and an impossible budget is reported rather than silently missed."""
import numpy as np
import pytest

from edgepress.convert.ir import Tensor
from edgepress.quantize import quantize
from edgepress.quantize.api import BudgetWarning
from edgepress.quantize.budget import cosine_drop, mse_drop, top1_drop

from qgraphs import Builder


def outlier_model():
    """fc_bad's rows each hold a huge weight on an input that is always 0 (a dead input, as trained networks
    have): harmless in float, but its int8 per-channel step wipes out the other weights. fc_ok is ordinary."""
    b = Builder(11)
    x = b.input("x", (8, 32))
    w = b.rng.standard_normal((32, 32)).astype(np.float32) * 0.2
    w[:, 0] = 40.0
    h = b.op("FULLY_CONNECTED", [x, Tensor.constant("w_bad", w), b.const(32, 0.1)], (8, 32), name="fc_bad")
    h = b.op("FULLY_CONNECTED", [h, b.const((16, 32), 0.2), b.const(16, 0.1)], (8, 16), name="fc_ok")
    y = b.op("FULLY_CONNECTED", [h, b.const((10, 16), 0.3), b.const(10, 0.1)], (8, 10), name="head")
    return b.model([x], [y])


def data(n=12):
    rng = np.random.default_rng(12)
    feeds = [{"x": rng.uniform(-1, 1, (8, 32)).astype(np.float32)} for _ in range(n)]
    for f in feeds:
        f["x"][:, 0] = 0
    return feeds


def test_budget_keeps_the_sensitive_layer_float():
    model = outlier_model()
    _, plain = quantize(model, "int8", calibration=data(), bias_correction=False, report_samples=0)
    qmodel, report = quantize(model, "int8", calibration=data(), bias_correction=False, max_drop=1e-3,
                              report_samples=0)
    b = report.budget
    assert b["full_drop"] > 0.01 and b["reached"] and b["drop"] <= 1e-3
    assert b["kept"] == ["fc_bad"]
    assert [k.op for k in report.kept_float] == ["fc_bad"]
    fc_bad = next(op for op in qmodel.graph.ops if op.sources == ["fc_bad"])
    assert fc_bad.inputs[1].dtype == "float32"
    assert "budget: cosine drop" in report.summary()
    assert plain.budget is None


def test_impossible_budget_is_reported():
    with pytest.warns(BudgetWarning, match="cannot reach --max-drop 0"):
        _, report = quantize(outlier_model(), "int8", calibration=data(), max_drop=0.0, metric="mse",
                             report_samples=0)
    assert not report.budget["reached"] and report.budget["metric"] == "mse"


def test_metrics():
    a = [np.array([[1.0, 2.0, 3.0], [3.0, 2.0, 1.0]])]
    assert cosine_drop(a, a) == pytest.approx(0.0, abs=1e-12)
    assert top1_drop(a, [a[0][::-1]]) == 1.0
    assert mse_drop(a, [a[0] * 1.1]) == pytest.approx(0.01)
