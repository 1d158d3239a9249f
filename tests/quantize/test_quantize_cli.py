"""`edgepress quantize` as a click command on the project's command group (its error handling included)."""
import json

import numpy as np
import onnx
from click.testing import CliRunner
from PIL import Image

from edgepress.cli import Group
from edgepress.quantize.cli import quantize

from qmodels import cnn, input_samples
from qoracle import tflite_runtime_run


def run(*args):
    group = Group()
    group.add_command(quantize)
    result = CliRunner().invoke(group, ["quantize", *map(str, args)])
    return result.exit_code, result.output


def test_int8_with_npy_calibration_and_report(tmp_path):
    proto = cnn()
    onnx.save(proto, tmp_path / "m.onnx")
    samples = input_samples(proto, 6)
    np.save(tmp_path / "calib.npy", np.stack([s["image"] for s in samples]))
    code, out = run(tmp_path / "m.onnx", "-o", tmp_path / "q.tflite", "--scheme", "int8", "--calibration",
                    tmp_path / "calib.npy", "--calibrator", "mse", "--io-type", "uint8", "--report",
                    tmp_path / "r.json", "--keep-float", "prob")
    assert code == 0, out
    assert "output prob" in out and "stayed float" in out and "wrote" in out
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["calibrator"] == "mse" and report["kept_float"][0]["op"] == "prob"
    from ai_edge_litert.interpreter import Interpreter
    data = (tmp_path / "q.tflite").read_bytes()
    runner = Interpreter(model_content=data).get_signature_runner("serving_default")
    x = np.clip(np.round(samples[0]["image"] / 0.02 + 128), 0, 255).astype(np.uint8)
    details = runner.get_input_details()["image"]
    assert details["dtype"] == np.uint8
    assert runner(image=x)["prob"].dtype == np.uint8
    other = tflite_runtime_run(data, {"image": x})
    if other is not None:
        assert other["prob"].dtype == np.uint8


def test_budget_mode(tmp_path):
    proto = cnn()
    onnx.save(proto, tmp_path / "m.onnx")
    np.save(tmp_path / "calib.npy", np.stack([s["image"] for s in input_samples(proto, 8)]))
    code, out = run(tmp_path / "m.onnx", "-o", tmp_path / "q.tflite", "--scheme", "int8", "--calibration",
                    tmp_path / "calib.npy", "--max-drop", "0", "--metric", "top1", "--held-out", "2", "--equalize")
    assert code == 0, out
    assert "budget: top1 drop" in out and "on 6 samples" in out
    assert "cross-layer equalization: 1 layer pair(s)" in out  # conv1 -> relu -> dw1; a ReLU6 ends the rest


def test_target_builtin_keeps_int8_softmax(tmp_path):
    proto = cnn()
    onnx.save(proto, tmp_path / "m.onnx")
    np.save(tmp_path / "calib.npy", np.stack([s["image"] for s in input_samples(proto, 4)]))
    outputs = {}
    for target in ("xnnpack", "builtin"):
        code, out = run(tmp_path / "m.onnx", "-o", tmp_path / f"{target}.tflite", "--scheme", "int8",
                        "--calibration", tmp_path / "calib.npy", "--target", target)
        assert code == 0, out
        outputs[target] = out
    assert "SOFTMAX" in outputs["xnnpack"] and "XNNPACK has no int8 SOFTMAX" in outputs["xnnpack"]
    assert "XNNPACK" not in outputs["builtin"]


def test_image_folder_calibration(tmp_path):
    onnx.save(cnn(), tmp_path / "m.onnx")
    images = tmp_path / "images"
    images.mkdir()
    rng = np.random.default_rng(0)
    for i in range(3):
        Image.fromarray(rng.integers(0, 256, (20, 24, 3), dtype=np.uint8)).save(images / f"{i}.png")
    code, out = run(tmp_path / "m.onnx", "-o", tmp_path / "q.tflite", "--scheme", "int16x8", "--calibration",
                    images, "--mean", "0.5", "--std", "0.25", "--color", "BGR")
    assert code == 0, out
    assert "on 3 samples" in out


def test_errors_are_one_line_and_leave_no_file(tmp_path):
    onnx.save(cnn(), tmp_path / "m.onnx")
    code, out = run(tmp_path / "m.onnx", "-o", tmp_path / "q.tflite", "--scheme", "int8")
    assert code == 1 and out.startswith("error:") and "needs calibration data" in out
    assert not (tmp_path / "q.tflite").exists()
    code, out = run(tmp_path / "m.onnx", "-o", tmp_path / "q.tflite", "--scheme", "float16", "--mean", "a,b")
    assert code == 1 and "--mean 'a,b'" in out
