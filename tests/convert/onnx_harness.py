"""Check a converted ONNX model against onnxruntime, ai-edge-litert (and tflite-runtime where it imports)
and our reference evaluator, on the same inputs.

Tolerance (the issue's bar): max abs error <= 1e-4 * max(1, max |reference|) per output, float32.
"""
from __future__ import annotations

import numpy as np
import onnx

from edgepress.convert import load
from engines import edgepress_run, litert_run, onnxruntime_run, tflite_runtime_run  # noqa: F401 (re-exported)

TOL = 1e-4
RUNTIME_RTOL = 1e-5  # issue 3's bar for runtime_edge vs ai-edge-litert on the same float32 model


def random_feeds(model: onnx.ModelProto, input_shapes: dict | None = None, seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    init = {i.name for i in model.graph.initializer}
    feeds = {}
    for inp in model.graph.input:
        if inp.name in init:
            continue
        tt = inp.type.tensor_type
        shape = (input_shapes or {}).get(inp.name) or [d.dim_value or 1 for d in tt.shape.dim]
        dtype = onnx.helper.tensor_dtype_to_np_dtype(tt.elem_type)
        if np.issubdtype(dtype, np.floating):
            feeds[inp.name] = rng.standard_normal(shape).astype(dtype)
        elif dtype == np.bool_:
            feeds[inp.name] = rng.random(shape) > 0.5
        else:
            feeds[inp.name] = rng.integers(0, 4, shape).astype(dtype)
    return feeds


def assert_runtimes_agree(actual: dict, litert: dict, rtol: float = RUNTIME_RTOL) -> None:
    """runtime_edge against ai-edge-litert on the same .tflite: float within rtol of each output's largest
    magnitude (at least 1), integers exactly."""
    assert_close(actual, {k: np.asarray(v) for k, v in litert.items()}, "runtime_edge vs ai-edge-litert", rtol)


def assert_close(actual: dict, expected: dict, what: str, tol: float = TOL) -> None:
    assert set(actual) == set(expected), f"{what}: outputs {sorted(actual)} != {sorted(expected)}"
    for name, ref in expected.items():
        got = np.asarray(actual[name])
        assert got.shape == ref.shape, f"{what}: output '{name}' shape {got.shape} != {ref.shape}"
        if ref.dtype.kind in "biu":
            np.testing.assert_array_equal(got, ref, err_msg=f"{what}: output '{name}'")
            continue
        bound = tol * max(1.0, float(np.max(np.abs(ref))) if ref.size else 1.0)
        err = float(np.max(np.abs(got.astype(np.float64) - ref))) if ref.size else 0.0
        assert err <= bound, f"{what}: output '{name}' max abs error {err:.3g} > {bound:.3g}"


def check_onnx_model(model: onnx.ModelProto, feeds: dict | None = None, input_shapes: dict | None = None,
                     nhwc_io: bool = False, tmp_path=None, tol: float = TOL):
    """Convert `model`, run every engine on the same feeds, compare each with onnxruntime.
    Returns the converted IR model so callers can assert on its structure."""
    import tempfile, os
    feeds = feeds if feeds is not None else random_feeds(model, input_shapes)
    expected = onnxruntime_run(model, feeds)
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "model.onnx")
        onnx.save(model, path)
        ir = load(path, input_shapes=input_shapes, nhwc_io=nhwc_io)
    io_shapes = {t.name: t.shape for t in (*ir.graph.inputs, *ir.graph.outputs)}
    tfl_feeds = {k: to_layout(v, io_shapes[k]) for k, v in feeds.items()}
    expected_io = {k: to_layout(v, io_shapes[k]) for k, v in expected.items()}
    assert_close(ir.run(tfl_feeds), expected_io, "reference evaluator", tol)
    data = ir.to_bytes()
    litert = litert_run(data, tfl_feeds)
    assert_close(litert, expected_io, "ai-edge-litert", tol)
    assert_runtimes_agree(edgepress_run(data, tfl_feeds), litert)
    other = tflite_runtime_run(data, tfl_feeds)
    if other is not None:
        assert_close(other, expected_io, "tflite-runtime", tol)
    return ir


def to_layout(x: np.ndarray, ir_shape: tuple) -> np.ndarray:
    """x in the ONNX layout, moved channels-last when the converted model's I/O tensor is (--nhwc-io)."""
    matches = lambda shape: all(d is None or d == v for d, v in zip(ir_shape, shape))
    if x.ndim >= 3 and not matches(x.shape) and matches(np.moveaxis(x, 1, -1).shape):
        return np.moveaxis(x, 1, -1)
    return x
