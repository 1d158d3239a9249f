"""--engine nncf (quantize/nncf_engine.py): NNCF's post-training quantization of an ONNX model, read back through
the QDQ importer, in Python and on the command line; what it refuses; NNCF imported only when the engine runs."""
import os
import subprocess
import sys
import warnings

import numpy as np
import pytest
from click.testing import CliRunner

from edgepress.cli import Group
from edgepress.convert import load
from edgepress.errors import UsageError
from edgepress.quantize import StaysFloatWarning, quantize
from edgepress.quantize.cli import quantize as quantize_command

from qdqmodels import (NNCF_STEPS, SOFTMAX_STEP, TINY, assert_agree, int8_params, nncf_quantized, source_params,
                       steps_apart)


@pytest.fixture(scope="module")
def feeds():
    rng = np.random.default_rng(1)
    return [{"image": rng.uniform(-1, 1, (1, 3, 64, 64)).astype(np.float32)} for _ in range(28)]


@pytest.mark.parametrize("preset", ["performance", "mixed"])
def test_engine_quantizes_with_nncf_scales(feeds, tmp_path, preset):
    calibration, held_out = feeds[:8], feeds[8:]
    qmodel, report = quantize(TINY, "int8", calibration=calibration, engine="nncf", preset=preset, report_samples=2)
    assert report.seconds["nncf"] > 0 and report.outputs and [k.op_type for k in report.kept_float] == ["SOFTMAX"]
    # the report measures the int8 model against the source's float model, not against NNCF's
    source = load(TINY)
    assert report.size_before == len(source.to_bytes())
    for name, metrics in report.outputs.items():
        f = np.concatenate([source.run(x)[name].ravel() for x in calibration[:2]]).astype(np.float64)
        q = np.concatenate([qmodel.run(x)[name].ravel() for x in calibration[:2]]).astype(np.float64)
        assert metrics.cosine == pytest.approx(f @ q / np.linalg.norm(f) / np.linalg.norm(q), abs=1e-9)
    # the same NNCF run, as a user would make it, is the reference: its scales are ours, and its outputs
    qdq = nncf_quantized(TINY, str(tmp_path / "qdq.onnx"), calibration, preset)
    expected, ours = source_params(qdq), int8_params(qmodel)
    shared = set(expected) & set(ours)
    assert len(shared) >= len(expected) - 1  # NNCF's input quantizer of HardSwish is inside HARD_SWISH
    for name in shared:
        assert ours[name] == {expected[name]}, name
    assert_agree(*steps_apart(qmodel.to_bytes(), qdq, held_out, SOFTMAX_STEP), every=NNCF_STEPS)


def run_cli(*args):
    group = Group()
    group.add_command(quantize_command)
    result = CliRunner().invoke(group, ["quantize", *map(str, args)])
    return result.exit_code, result.output


def test_cli_engine_nncf(feeds, tmp_path):
    np.save(tmp_path / "calib.npy", np.concatenate([f["image"] for f in feeds[:6]]))
    code, out = run_cli(TINY, "-o", tmp_path / "q.tflite", "--scheme", "int8", "--calibration", tmp_path / "calib.npy",
                        "--engine", "nncf", "--preset", "mixed")
    assert code == 0, out
    assert "wrote" in out
    from ai_edge_litert.interpreter import Interpreter
    runner = Interpreter(model_content=(tmp_path / "q.tflite").read_bytes()).get_signature_runner("serving_default")
    floats = load(TINY)
    for f in feeds[20:24]:
        got, ref = runner(**f)["probabilities"], floats.run(f)["probabilities"]
        assert np.max(np.abs(got - ref)) < 0.05


def test_refusals(feeds, tmp_path, monkeypatch):
    calibration = feeds[:2]
    tflite = tmp_path / "tiny.tflite"
    load(TINY).save(str(tflite))
    with pytest.raises(UsageError, match="quantizes ONNX models"):
        quantize(str(tflite), "int8", calibration=calibration, engine="nncf")
    with pytest.raises(UsageError, match="in-memory"):
        quantize(load(TINY), "int8", calibration=calibration, engine="nncf")
    with pytest.raises(UsageError, match="needs calibration"):
        quantize(TINY, "int8", engine="nncf")
    with pytest.raises(UsageError, match="int8"):
        quantize(TINY, "dynamic", calibration=calibration, engine="nncf")
    with pytest.raises(UsageError, match="--preset"):
        quantize(TINY, "int8", calibration=calibration, engine="nncf", preset="accuracy")
    with pytest.raises(UsageError, match="--engine"):
        quantize(TINY, "int8", calibration=calibration, engine="openvino")
    monkeypatch.setitem(sys.modules, "nncf", None)  # what `import nncf` finds when NNCF is not installed
    with pytest.raises(UsageError, match=r"pip install edgepress\[nncf\]"):
        quantize(TINY, "int8", calibration=calibration, engine="nncf")


def test_cli_refuses_tflite_with_nncf(feeds, tmp_path):
    load(TINY).save(str(tmp_path / "tiny.tflite"))
    np.save(tmp_path / "calib.npy", np.concatenate([f["image"] for f in feeds[:2]]))
    code, out = run_cli(tmp_path / "tiny.tflite", "-o", tmp_path / "q.tflite", "--scheme", "int8", "--calibration",
                        tmp_path / "calib.npy", "--engine", "nncf")
    assert code != 0 and "ONNX" in out and "Traceback" not in out


def test_nncf_is_imported_only_by_the_engine():
    code = ("import sys, edgepress.cli, edgepress.quantize, edgepress.quantize.cli; "
            "print('nncf' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={**os.environ, "PYTHONWARNINGS": "ignore"})
    assert done.stdout.strip() == "False", done.stderr


def test_nncf_model_without_calibration_keeps_unranged_ops_float(tmp_path, feeds):
    """NNCF quantizes op inputs only: imported without calibration data, the ops whose outputs it leaves
    float (the logits here) stay float, named in warnings, as they are float in NNCF's own model."""
    qdq = nncf_quantized(TINY, str(tmp_path / "qdq.onnx"), feeds[:4])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", StaysFloatWarning)
        qmodel, report = quantize(qdq, "int8")
    assert any("no calibration statistics for 'logits'" in str(w.message) for w in caught)
    assert "FULLY_CONNECTED" in {k.op_type for k in report.kept_float}
    assert all("no calibration statistics" in k.reason for k in report.kept_float)
    assert any(op.type == "CONV_2D" and op.inputs[0].dtype == "int8" for op in qmodel.graph.ops)


def test_cli_stdout_is_the_report_only(feeds, tmp_path):
    """NNCF's progress bars go to stderr: a user piping the summary gets the summary."""
    from cli_helpers import edgepress
    np.save(tmp_path / "calib.npy", np.concatenate([f["image"] for f in feeds[:4]]))
    code, out, err = edgepress("quantize", TINY, "-o", tmp_path / "q.tflite", "--scheme", "int8",
                               "--calibration", tmp_path / "calib.npy", "--engine", "nncf")
    assert code == 0, err
    assert out.startswith("scheme int8") and "━" not in out and "Statistics collection" in err
