"""The command line end to end: the bundled example, inspect/run, and bad input (clean errors, no output)."""
import os
import subprocess
import sys

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from cli_helpers import assert_clean_failure, edgepress

EXAMPLE = subprocess.run([sys.executable, "-m", "edgepress.examples"], capture_output=True, text=True).stdout.strip()


def test_convert_bundled_example(tmp_path):
    out = tmp_path / "tiny.tflite"
    code, stdout, err = edgepress("convert", EXAMPLE, "-o", out)
    assert code == 0, err
    assert out.stat().st_size > 20_000
    assert "ops" in stdout and "M parameters" in stdout and "image" in stdout


def test_inspect_both_formats(tmp_path):
    out = tmp_path / "tiny.tflite"
    assert edgepress("convert", EXAMPLE, "-o", out)[0] == 0
    code, stdout, err = edgepress("inspect", EXAMPLE)
    assert code == 0, err
    assert "ONNX opset 17" in stdout and "Conv 4" in stdout and "stem.w" in stdout
    code, stdout, err = edgepress("inspect", out)
    assert code == 0, err
    assert "TFLite" in stdout and "CONV_2D" in stdout and "probabilities" in stdout


@pytest.mark.parametrize("engine", ["reference", "edgepress"])
def test_run_matches_onnxruntime(tmp_path, engine):
    import onnxruntime as ort
    x = np.random.default_rng(0).standard_normal((1, 3, 64, 64)).astype(np.float32)
    np.save(tmp_path / "x.npy", x)
    code, stdout, err = edgepress("run", EXAMPLE, "--input", f"image={tmp_path / 'x.npy'}", "-o", tmp_path / "out",
                                  "--engine", engine)
    assert code == 0, err
    got = np.load(tmp_path / "out" / "probabilities.npy")
    want = ort.InferenceSession(EXAMPLE, providers=["CPUExecutionProvider"]).run(None, {"image": x})[0]
    np.testing.assert_allclose(got, want, atol=1e-5)


def unsupported_model(path):
    nodes = [helper.make_node("Relu", ["x"], ["a"], name="ok_relu"),
             helper.make_node("Hardmax", ["a"], ["b"], name="hm1"),
             helper.make_node("Hardmax", ["b"], ["c"], name="hm2"),
             helper.make_node("MyOp", ["c"], ["y"], name="mine", domain="com.example")]
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("com.example", 1)])
    onnx.save(model, path)


def test_unsupported_ops_listed_with_node_names(tmp_path):
    src, out = tmp_path / "bad.onnx", tmp_path / "bad.tflite"
    unsupported_model(src)
    code, stdout, err = edgepress("convert", src, "-o", out)
    assert_clean_failure(code, stdout, err, "Hardmax: hm1, hm2", "com.example.MyOp: mine", "2 unsupported op type")
    assert not out.exists()


def truncated(data: bytes) -> bytes:
    return data[: len(data) // 2]


@pytest.mark.parametrize("case", ["truncated_onnx", "garbage_onnx", "truncated_tflite", "garbage_tflite",
                                  "empty_tflite", "missing"])
def test_corrupt_or_missing_model(tmp_path, case):
    tflite = tmp_path / "ok.tflite"
    assert edgepress("convert", EXAMPLE, "-o", tflite)[0] == 0
    onnx_bytes, tflite_bytes = open(EXAMPLE, "rb").read(), tflite.read_bytes()
    rng = np.random.default_rng(1)
    contents = {"truncated_onnx": ("m.onnx", truncated(onnx_bytes)),
                "garbage_onnx": ("m.onnx", rng.bytes(5000)),
                "truncated_tflite": ("m.tflite", truncated(tflite_bytes)),
                "garbage_tflite": ("m.tflite", b"\x1c\x00\x00\x00TFL3" + rng.bytes(3000)),
                "empty_tflite": ("m.tflite", b""),
                "missing": ("absent.onnx", None)}
    name, data = contents[case]
    src, out = tmp_path / name, tmp_path / "out.tflite"
    if data is not None:
        src.write_bytes(data)
    for command in (["convert", src, "-o", out], ["inspect", src]):
        code, stdout, err = edgepress(*command)
        assert_clean_failure(code, stdout, err, name)
        assert len(err.strip().splitlines()) <= 2, err
    assert not out.exists()
    assert sorted(os.listdir(tmp_path)) == sorted({"ok.tflite", name} - ({name} if data is None else set()))


@pytest.mark.parametrize("shape_arg,expected", [
    ("image=1,3,abc,64", "image=1,3,abc,64"),
    ("image", "NAME=D1,D2"),
    ("image=1,3,0,64", "positive"),
    ("nosuch=1,3,64,64", "no input 'nosuch'"),
    ("image=1,3,64", "rank 4"),
    ("image=1,3,32,32", "fixed by the model"),
])
def test_bad_input_shape(tmp_path, shape_arg, expected):
    out = tmp_path / "o.tflite"
    code, stdout, err = edgepress("convert", EXAMPLE, "-o", out, "--input-shape", shape_arg)
    assert_clean_failure(code, stdout, err, expected)
    assert not out.exists()


def test_run_with_wrong_inputs(tmp_path):
    np.save(tmp_path / "x.npy", np.zeros((1, 3, 64, 64), np.float32))
    code, stdout, err = edgepress("run", EXAMPLE, "--input", f"wrong={tmp_path / 'x.npy'}")
    assert_clean_failure(code, stdout, err, "image")
    code, stdout, err = edgepress("run", EXAMPLE, "--input", f"image={tmp_path / 'nothere.npy'}")
    assert_clean_failure(code, stdout, err, "nothere.npy")


def test_convert_prunes_and_quantizes_in_one_command(tmp_path):
    """`convert --prune ... --quantize int8 --calibration` composes the passes; the result is a standard int8
    model with float I/O that ai-edge-litert runs (its softmax output still sums to one)."""
    import json

    from ai_edge_litert.interpreter import Interpreter
    rng = np.random.default_rng(3)
    calib = rng.standard_normal((24, 1, 3, 64, 64)).astype(np.float32)
    np.savez(tmp_path / "calib.npz", image=calib)
    out, report = tmp_path / "small.tflite", tmp_path / "report.json"
    code, stdout, err = edgepress("convert", EXAMPLE, "-o", out, "--prune", "channels=0.25", "--quantize", "int8",
                                  "--calibration", tmp_path / "calib.npz", "--report", report)
    assert code == 0, err
    reports = json.loads(report.read_text())
    assert set(reports) == {"prune", "quantize"}
    interp = Interpreter(model_path=str(out))
    interp.allocate_tensors()
    detail = interp.get_input_details()[0]
    assert detail["dtype"] == np.float32 and list(detail["shape"]) == [1, 3, 64, 64]
    tensor_types = {d["dtype"] for d in interp.get_tensor_details()}
    assert np.int8 in tensor_types
    interp.set_tensor(detail["index"], calib[0])
    interp.invoke()
    probs = interp.get_tensor(interp.get_output_details()[0]["index"])
    assert probs.shape == (1, 10) and abs(float(probs.sum()) - 1) < 0.05


def test_bench_prints_the_side_by_side_table(tmp_path):
    out = tmp_path / "tiny.tflite"
    assert edgepress("convert", EXAMPLE, "-o", out)[0] == 0
    code, stdout, err = edgepress("bench", out, "--runtime", "edgepress,litert", "--threads", "1,2", "--runs", "3",
                                  "--profile")
    assert code == 0, err
    rows = [line.split() for line in stdout.splitlines() if line.startswith(("edgepress ", "litert "))]
    assert sorted((r[0], r[1]) for r in rows) == [("edgepress", "1"), ("edgepress", "2"), ("litert", "1"), ("litert", "2")]
    assert "per-op profile" in stdout and "CONV_2D" in stdout


def test_bench_corrupt_model(tmp_path):
    src = tmp_path / "cut.tflite"
    assert edgepress("convert", EXAMPLE, "-o", src)[0] == 0
    src.write_bytes(src.read_bytes()[:3000])
    code, stdout, err = edgepress("bench", src, "--runtime", "edgepress")
    assert_clean_failure(code, stdout, err, "edgepress cannot run this model")
