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


@pytest.mark.realmodel
@pytest.mark.slow
def test_budget_on_the_ppocr_cls_model(rapidocr_model_files):
    """On PP-OCR cls with rendered text lines (relative MSE: its two-class probabilities are too saturated for
    cosine to move): the budget is met as measured on the held-out samples (the
    drop recomputed here from the returned model), with fewer float layers than weighted ops, or the
    BudgetWarning says it cannot be."""
    import warnings
    from edgepress.convert import load
    from edgepress.quantize.budget import outputs_of
    from qtext import line_image
    path = next(p for n, p in rapidocr_model_files.items() if "_cls_" in n)
    ir = load(path, input_shapes={"x": [1, 3, 48, 192]})
    rng = np.random.default_rng(5)
    feeds = [{"x": line_image(192, 48, rng, rotate=i % 2 == 1)} for i in range(8)]
    full, _ = quantize(ir, "int8", calibration=feeds[2:], report_samples=0)
    full_drop = mse_drop(outputs_of(ir, feeds[:2]), outputs_of(full, feeds[:2]))
    max_drop = full_drop / 4  # a budget plain int8 misses
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        qmodel, report = quantize(ir, "int8", calibration=feeds, max_drop=max_drop, metric="mse", held_out=2,
                                  report_samples=0)
    drop = mse_drop(outputs_of(ir, feeds[:2]), outputs_of(qmodel, feeds[:2]))
    weighted = sum(op.type in ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED") for op in ir.graph.ops)
    print(f"\ncls budget: full int8 drop {full_drop:.3g}, budget {max_drop:.3g}, reached {report.budget['reached']} "
          f"with drop {drop:.3g}, {len(report.budget['kept'])} of {weighted} weighted layers float, "
          f"{report.budget['probes']} probes")
    assert full_drop > 0
    if report.budget["reached"]:
        assert drop <= max_drop and 0 < len(report.budget["kept"]) < weighted
    else:
        assert any(issubclass(w.category, BudgetWarning) for w in caught)
