"""Shared by the pruning tests: convert ONNX test models, run them in onnxruntime, ai-edge-litert and (where
its environment is set up) tflite-runtime, and compare outputs with a stated tolerance."""
from __future__ import annotations


import numpy as np
import onnx
from engines import litert_run, tflite_runtime_run  # noqa: F401 (re-exported to the prune tests)

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
