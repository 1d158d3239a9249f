"""Shared by the pruning tests: convert ONNX test models, run them in onnxruntime, ai-edge-litert and (where
its environment is set up) tflite-runtime, and compare outputs with a stated tolerance."""
from __future__ import annotations

import os
import subprocess
import tempfile

import numpy as np
import onnx

from edgepress.convert import load

TOL = 1e-4  # max abs error <= TOL * max(1, max |reference|), float32


def convert(proto: onnx.ModelProto, tmp_path, name="model"):
    path = tmp_path / f"{name}.onnx"
    onnx.save(proto, path)
    return load(str(path))


def onnxruntime_run(proto: onnx.ModelProto, feed: dict) -> dict:
    import onnxruntime as ort
    sess = ort.InferenceSession(proto.SerializeToString(), providers=["CPUExecutionProvider"])
    names = [o.name for o in sess.get_outputs()]
    return dict(zip(names, sess.run(names, feed)))


def litert_run(data: bytes, feed: dict) -> dict:
    from ai_edge_litert.interpreter import Interpreter
    return Interpreter(model_content=data, num_threads=1).get_signature_runner("serving_default")(**feed)


def tflite_runtime_run(data: bytes, feed: dict) -> dict | None:
    """tflite-runtime 2.14 in its own environment (tests/tflite_runtime_worker.py), None where
    EDGEPRESS_TFLITE_RUNTIME_PYTHON is not set (.ci/run sets it)."""
    python = os.environ.get("EDGEPRESS_TFLITE_RUNTIME_PYTHON")
    if not python:
        return None
    worker = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tflite_runtime_worker.py")
    with tempfile.TemporaryDirectory() as d:
        model, inputs, outputs = (os.path.join(d, n) for n in ("m.tflite", "in.npz", "out.npz"))
        with open(model, "wb") as f:
            f.write(data)
        np.savez(inputs, **feed)
        done = subprocess.run([python, worker, model, inputs, outputs], capture_output=True, text=True)
        assert done.returncode == 0, f"tflite-runtime failed: {done.stderr.strip()[-500:]}"
        return dict(np.load(outputs))


def assert_close(got: dict, want: dict, what: str, tol: float = TOL) -> None:
    assert set(got) == set(want), f"{what}: outputs {sorted(got)} != {sorted(want)}"
    for name, ref in want.items():
        ref = np.asarray(ref)
        bound = tol * max(1.0, float(np.max(np.abs(ref))))
        err = float(np.max(np.abs(np.asarray(got[name], np.float64) - ref)))
        assert np.shape(got[name]) == ref.shape and err <= bound, f"{what}: '{name}' error {err:.3g} > {bound:.3g}"


def check_runs_everywhere(pruned, test_feeds) -> None:
    """Well formed, shapes true, and the written file runs in ai-edge-litert like the reference evaluator."""
    from edgepress.convert.passes.validate import problems, shape_problems
    assert problems(pruned.graph) == []
    assert shape_problems(pruned.graph, test_feeds[0]) == []
    data = pruned.to_bytes()
    for feed in test_feeds:
        assert_close(litert_run(data, feed), pruned.run(feed), "ai-edge-litert vs reference")
