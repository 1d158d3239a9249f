"""int16 layers in an int8 model (--keep-int16, --budget-fallback int16): the chosen ops write int16
activations that their readers read as int16 (int16x8 kernels), QUANTIZE converts where int16 meets int8,
and litert and tflite-runtime run the result."""
import numpy as np
import pytest

from edgepress.convert.ir import Tensor
from edgepress.errors import UsageError
from edgepress.quantize import quantize

from qgraphs import Builder
from qoracle import tflite_runtime_run


def outlier_channel():
    """fc1's output has one channel offset by 60 (a bias as trained networks have) that fc2 reads with a tiny
    weight: int8's step on that tensor (about 0.25) swamps the others, int16's does not."""
    b = Builder(21)
    x = b.input("x", (8, 16))
    bias = b.rng.standard_normal(16).astype(np.float32) * 0.1
    bias[3] = 60.0
    h = b.op("FULLY_CONNECTED", [x, b.const((16, 16), 0.3), Tensor.constant("b1", bias)], (8, 16), name="fc1")
    w2 = b.rng.standard_normal((12, 16)).astype(np.float32) * 0.3
    w2[:, 3] = 0.001
    h = b.op("FULLY_CONNECTED", [h, Tensor.constant("w2", w2), b.const(12, 0.1)], (8, 12),
             {"fused_activation_function": "RELU"}, name="fc2")
    y = b.op("FULLY_CONNECTED", [h, b.const((4, 12), 0.3), b.const(4, 0.1)], (8, 4), name="head")
    return b.model([x], [y])


def data(n=12):
    rng = np.random.default_rng(22)
    return [{"x": rng.uniform(-1, 1, (8, 16)).astype(np.float32)} for _ in range(n)]


def max_error(model, qmodel, feeds):
    from ai_edge_litert.interpreter import Interpreter
    runner = Interpreter(model_content=qmodel.to_bytes()).get_signature_runner("serving_default")
    return max(float(np.max(np.abs(runner(**f)["head:0"] - model.run(f)["head:0"]))) for f in feeds)


def test_keep_int16_makes_the_tensor_between_int16():
    model, feeds = outlier_channel(), data()
    plain, _ = quantize(model, "int8", calibration=feeds[:8], report_samples=0)
    mixed, report = quantize(model, "int8", calibration=feeds[:8], report_samples=0, keep_int16=["fc1"])
    ops = {op.sources[0]: op for op in mixed.graph.ops if op.sources and op.type == "FULLY_CONNECTED"}
    assert ops["fc1"].outputs[0].dtype == "int16" and ops["fc2"].inputs[0] is ops["fc1"].outputs[0]
    assert ops["fc1"].inputs[1].dtype == "int8" and ops["fc1"].inputs[2].dtype == "int64"  # int16x8
    assert ops["head"].inputs[0].dtype == "int8"  # fc2's int16 output is requantized for the int8 head
    assert [op.type for op in mixed.graph.ops] == ["QUANTIZE", "FULLY_CONNECTED", "FULLY_CONNECTED", "QUANTIZE",
                                                   "FULLY_CONNECTED", "DEQUANTIZE"]  # float -> int16, int16 -> int8
    assert report.int16_layers == ["fc1", "fc2"]
    errors = max_error(model, plain, feeds[8:]), max_error(model, mixed, feeds[8:])
    assert errors[1] < errors[0] / 3, errors
    x = feeds[8]["x"]
    want = mixed.run({"x": x})["head:0"]  # the reference evaluator's integer kernels
    from edgepress.runtime_edge import Interpreter
    np.testing.assert_allclose(Interpreter(model_content=mixed.to_bytes()).get_signature_runner()(x=x)["head:0"],
                               want, atol=0.02)
    other = tflite_runtime_run(mixed.to_bytes(), {"x": x})
    if other is not None:
        np.testing.assert_allclose(other["head:0"], want, atol=0.02)


def test_budget_falls_back_to_int16():
    model, feeds = outlier_channel(), data()
    _, plain = quantize(model, "int8", calibration=feeds, report_samples=0, max_drop=1.0, metric="mse")
    qmodel, report = quantize(model, "int8", calibration=feeds, report_samples=0, metric="mse",
                              max_drop=plain.budget["full_drop"] / 5, budget_fallback="int16")
    assert report.budget["reached"] and report.budget["fallback"] == "int16" and report.budget["kept"]
    assert "fc1" in report.budget["kept"] and not report.kept_float
    assert any(t.dtype == "int16" for t in qmodel.graph.tensors())


@pytest.mark.parametrize("options", [{"keep_int16": ["fc1"]}, {"budget_fallback": "int16", "max_drop": 0.1}])
def test_int16_layers_need_an_int8_model(options):
    model, feeds = outlier_channel(), data()
    with pytest.raises(UsageError, match="int8 models"):
        quantize(model, "int16x8", calibration=feeds, **options)
