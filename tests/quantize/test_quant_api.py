"""quantize(): paths and calibration forms in, the report out (rows named by ONNX node names, JSON), and the
errors and warnings users meet."""
import json
import warnings

import numpy as np
import onnx
import pytest

from edgepress.errors import UnsupportedOpsError, UsageError
from edgepress.quantize import StaysFloatWarning, quantize

from qmodels import Net, cnn, input_samples


@pytest.fixture(scope="module")
def cnn_file(tmp_path_factory):
    folder = tmp_path_factory.mktemp("api")
    proto = cnn()
    onnx.save(proto, folder / "cnn.onnx")
    np.savez(folder / "calib.npz", image=np.stack([s["image"] for s in input_samples(proto, 8)]))
    return folder


def test_report_rows_speak_onnx_node_names(cnn_file, tmp_path):
    qmodel, report = quantize(str(cnn_file / "cnn.onnx"), "int8", calibration=str(cnn_file / "calib.npz"),
                              calibrator="percentile")
    assert report.calibrator == "percentile" and report.calibration_samples == 8 and report.report_samples == 8
    layers = {r.layer: r for r in report.layers}
    assert {"conv1, relu1", "dw1, relu6", "sigmoid", "swish", "residual", "fc", "prob"} <= set(layers)
    assert layers["conv1, relu1"].op_type == "CONV_2D" and layers["conv1, relu1"].dtype == "int8"
    assert all(r.metrics.sqnr_db > 15 and r.metrics.cosine > 0.98 for r in report.layers)
    assert report.outputs["prob"].cosine > 0.999
    assert report.size_after == len(qmodel.to_bytes()) < report.size_before
    report.save(str(tmp_path / "r.json"))
    saved = json.loads((tmp_path / "r.json").read_text())
    assert saved["scheme"] == "int8" and len(saved["layers"]) == len(report.layers)
    assert saved["layers"][0]["metrics"]["sqnr_db"] == pytest.approx(report.layers[0].metrics.sqnr_db)
    text = report.summary()
    assert "lowest SQNR" in text and "output prob" in text


def test_float16_report_without_calibration(cnn_file):
    _, report = quantize(str(cnn_file / "cnn.onnx"), "float16")
    assert report.layers == [] and report.outputs == {} and report.size_after < 0.6 * report.size_before


def sine_net():
    n = Net(5)
    h = n.conv("x", 3, 4, "conv_a")
    s = n.node("Sin", [h], "the_sine")
    n.conv(s, 4, 4, "conv_b")
    return n.model({"x": [1, 3, 8, 8]}, ["conv_b"])


def test_unquantizable_op_warns_with_its_name_or_fails_when_strict():
    model = sine_net()
    samples = input_samples(model, 4)
    from edgepress.convert.onnx.importer import import_onnx
    from edgepress.convert.passes import optimize
    ir = optimize(import_onnx(model))
    with pytest.warns(StaysFloatWarning, match="SIN 'the_sine' stays float: no int8 kernel for SIN"):
        qmodel, report = quantize(ir, "int8", calibration=samples)
    assert [(k.op, k.op_type) for k in report.kept_float] == [("the_sine", "SIN")]
    types = [op.type for op in qmodel.graph.ops]
    i = types.index("SIN")
    assert types[i - 1] == "DEQUANTIZE" and types[i + 1] == "QUANTIZE"
    with pytest.raises(UnsupportedOpsError, match="the_sine"):
        quantize(ir, "int8", calibration=samples, strict=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _, report = quantize(ir, "int8", calibration=samples, keep_float=["SIN"], strict=True)
    assert report.kept_float[0].reason == "kept float as asked"


@pytest.mark.parametrize("kwargs,match", [
    ({"scheme": "int8"}, "needs calibration data"),
    ({"scheme": "float16", "io_type": "int8"}, "only full-integer schemes"),
    ({"scheme": "int4"}, "expected one of"),
    ({"scheme": "dynamic", "keep_float": ["no_such_node"]}, "no_such_node"),
    ({"scheme": "int8", "calibration": [], "calibrator": "median"}, "--calibrator median"),
    ({"scheme": "int8", "calibration": []}, "no samples"),
    ({"scheme": "int16x8", "calibration": [], "io_type": "uint8"}, "not available with int16x8"),
])
def test_usage_errors(cnn_file, kwargs, match):
    with pytest.raises(UsageError, match=match):
        quantize(str(cnn_file / "cnn.onnx"), **kwargs)
