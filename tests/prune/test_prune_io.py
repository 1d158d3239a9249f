"""Pruning from every input the toolchain reads, and into what comes next: .tflite input (float16 weights
behind DEQUANTIZE included), a flatten in TFLite's own NHWC order, the CLI with .npy calibration and a JSON
report, and a pruned model that the int8 quantizer takes."""
from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from edgepress.convert.ir import Graph, Model, Op, Tensor
from edgepress.prune import prune
from edgepress.prune.cli import prune as prune_command

from helpers_prune import assert_close, check_runs_everywhere, convert, litert_run, onnxruntime_run
from pnets import DEAD_MODELS, deep_separable, feeds


def run_cli(args):
    from edgepress.cli import Group
    group = Group()
    group.add_command(prune_command)
    return CliRunner().invoke(group, ["prune", *args], catch_exceptions=False)


def test_tflite_input_with_float16_weights(tmp_path):
    """A .tflite whose weights are float16 behind DEQUANTIZE prunes like its float model."""
    from edgepress.quantize import quantize
    proto, dead = DEAD_MODELS["residual"]()
    ir = convert(proto, tmp_path)
    half, _ = quantize(ir, "float16")
    path = tmp_path / "half.tflite"
    half.save(str(path))
    cal, test = feeds(proto, 8, seed=1), feeds(proto, 2, seed=2)
    pruned, report = prune(str(path), channels=0.3, calibration=cal, min_channels=1, multiple=1,
                           repair_layers=False)
    assert not any(op.type == "DEQUANTIZE" for op in pruned.graph.ops)
    assert report.channel_groups["removed_channels"] >= dead
    check_runs_everywhere(pruned, test)


def nhwc_flatten_model(dead=(1, 4)) -> Model:
    """CONV_2D -> RESHAPE (1,4,4,6) -> (1,96) -> FULLY_CONNECTED, as TFLite converters emit a flatten: the
    channel is the fastest-varying index of the flat vector. `dead` conv channels are zero."""
    rng = np.random.default_rng(0)
    w = rng.standard_normal((6, 3, 3, 3)).astype(np.float32)
    b = rng.standard_normal(6).astype(np.float32)
    w[list(dead)], b[list(dead)] = 0, 0
    x, c, f, y = Tensor("x", (1, 8, 8, 3)), Tensor("c", (1, 4, 4, 6)), Tensor("f", (1, 96)), Tensor("y", (1, 5))
    ops = [Op("CONV_2D", [x, Tensor.constant("w", w), Tensor.constant("b", b)], [c],
              {"padding": "SAME", "stride_h": 2, "stride_w": 2, "fused_activation_function": "RELU"}),
           Op("RESHAPE", [c, Tensor.constant("shape", np.array([1, 96], np.int32))], [f]),
           Op("FULLY_CONNECTED", [f, Tensor.constant("fc", rng.standard_normal((5, 96)).astype(np.float32)),
                                  Tensor.constant("fb", rng.standard_normal(5).astype(np.float32))], [y])]
    return Model(graphs=[Graph(inputs=[x], outputs=[y], ops=ops)])


def test_nhwc_flatten_into_fully_connected():
    model = nhwc_flatten_model()
    rng = np.random.default_rng(1)
    cal = [{"x": rng.standard_normal((1, 8, 8, 3)).astype(np.float32)} for _ in range(4)]
    pruned, report = prune(model, channels=1.5 / 6, target="channels", calibration=cal, min_channels=1, multiple=1,
                           repair_layers=False)
    assert report.channel_groups["removed_channels"] == 2
    assert pruned.graph.ops[2].inputs[1].data.shape == (5, 64)
    original = model.to_bytes()
    for feed in cal:
        assert_close(litert_run(pruned.to_bytes(), feed), litert_run(original, feed), "pruned vs original (litert)")
    check_runs_everywhere(pruned, cal[:1])


def test_cli_with_npy_calibration_and_report(tmp_path):
    proto = deep_separable()
    onnx_path, npy, out, rep = (tmp_path / n for n in ("m.onnx", "cal.npy", "m.tflite", "r.json"))
    import onnx
    onnx.save(proto, onnx_path)
    np.save(npy, np.concatenate([f["x"] for f in feeds(proto, 6, seed=1)]))
    result = run_cli([str(onnx_path), "-o", str(out), "--channels", "0.3", "--calibration", str(npy),
                      "--report", str(rep)])
    assert result.exit_code == 0, result.output
    assert "repair:" in result.output and f"wrote {out}" in result.output
    report = json.loads(rep.read_text())
    assert report["flops_after"] <= 0.7 * report["flops_before"]
    (kinds,) = report["outputs"].values()
    assert kinds["repaired"]["relative_l2"] < kinds["no_repair"]["relative_l2"]
    feed = feeds(proto, 1, seed=3)[0]
    got = litert_run(out.read_bytes(), feed)
    want = onnxruntime_run(proto, feed)
    (name,) = want
    cosine = float(np.dot(got[name].ravel(), want[name].ravel()) /
                   (np.linalg.norm(got[name]) * np.linalg.norm(want[name])))
    assert cosine > 0.9


@pytest.mark.parametrize("args, message", [
    ([], "nothing to do"),
    (["--channels", "1.5"], "expected a fraction"),
    (["--pattern", "4:2"], "expected N:M"),
    (["--sparsity", "0.3", "--pattern", "2:4"], "contradicts"),
])
def test_cli_usage_errors(tmp_path, args, message):
    import onnx
    path = tmp_path / "m.onnx"
    onnx.save(deep_separable(), path)
    result = run_cli([str(path), "-o", str(tmp_path / "o.tflite"), *args])
    assert result.exit_code == 1 and message in result.output
    assert not (tmp_path / "o.tflite").exists()


def test_pruned_model_quantizes_to_int8(tmp_path):
    """The quantizer takes a pruned model as it is (no op stays float) and the int8 file tracks it."""
    from edgepress.quantize import quantize
    proto = deep_separable()
    cal, test = feeds(proto, 8, seed=1), feeds(proto, 2, seed=2)
    pruned, _ = prune(convert(proto, tmp_path), channels=0.3, calibration=cal)
    qmodel, report = quantize(pruned, "int8", calibration=cal)
    assert report.kept_float == [] and report.size_after < report.size_before
    data = qmodel.to_bytes()
    for feed in test:
        got, want = litert_run(data, feed), pruned.run(feed)
        (name,) = want
        a, b = got[name].ravel(), want[name].ravel()
        assert float(a @ b) / float(np.linalg.norm(a) * np.linalg.norm(b)) > 0.98


def test_prune_spec_for_other_commands():
    from edgepress.errors import UsageError
    from edgepress.prune.cli import parse_spec
    assert parse_spec("channels=0.3") == {"channels": 0.3}
    assert parse_spec("pattern=2:4, method=magnitude,min-weights=512") == {
        "pattern": "2:4", "method": "magnitude", "min_weights": 512}
    for bad in ("", "channels", "ratio=0.3", "channels=lots"):
        with pytest.raises(UsageError):
            parse_spec(bad)
