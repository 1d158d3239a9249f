"""Conformance: the installed onnx wheel's backend test cases exported from PyTorch (pytorch-operator and
pytorch-converted: model.onnx plus test_data_set_*/input_*.pb and output_*.pb).

Every case whose ops all have a lowering is in scope: it must convert and match its expected outputs, both
in our reference evaluator and in ai-edge-litert, within 1e-4 * max(1, max |expected|). Cases using ops we
do not import, or computing in float64 (TFLite has no float64 kernels), are counted as out of scope.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import numpy_helper

from edgepress.convert import load
from edgepress.convert.onnx.importer import ONNX_DOMAINS
from edgepress.convert.onnx.lowerings import LOWERINGS
from onnx_harness import assert_close, litert_run

DATA = Path(onnx.__file__).parent / "backend" / "test" / "data"
SUITES = ("pytorch-operator", "pytorch-converted")


def case_dirs() -> list[Path]:
    return [d for suite in SUITES for d in sorted((DATA / suite).iterdir()) if (d / "model.onnx").is_file()]


def in_scope(model: onnx.ModelProto) -> bool:
    """Every op has a lowering, and the model computes in a type TFLite has kernels for (not float64)."""
    lowered = all(n.domain in ONNX_DOMAINS and n.op_type in LOWERINGS for n in model.graph.node)
    values = (*model.graph.input, *model.graph.output)
    return lowered and all(v.type.tensor_type.elem_type != onnx.TensorProto.DOUBLE for v in values)


def data_sets(case: Path, model: onnx.ModelProto):
    """(feeds, expected outputs) per test_data_set, by the graph's input and output names."""
    initializers = {i.name for i in model.graph.initializer}
    inputs = [i.name for i in model.graph.input if i.name not in initializers]
    outputs = [o.name for o in model.graph.output]
    for ds in sorted(case.glob("test_data_set_*")):
        yield dict(zip(inputs, tensors(ds, "input"))), dict(zip(outputs, tensors(ds, "output")))


def tensors(data_set: Path, kind: str) -> list:
    """input_0.pb, input_1.pb, ... in index order."""
    files = sorted(data_set.glob(f"{kind}_*.pb"), key=lambda f: int(f.stem.split("_")[1]))
    return [numpy_helper.to_array(onnx.load_tensor(str(f))) for f in files]


def assert_matches(actual: dict, expected: dict, what: str) -> None:
    """assert_close, where NaN expected (e.g. sqrt of a negative input) must be NaN in `actual` too."""
    masked_actual, masked_expected = {}, {}
    for name, ref in expected.items():
        got = np.asarray(actual.get(name))
        if ref.dtype.kind == "f" and got.shape == ref.shape:
            nan = np.isnan(ref)
            assert np.array_equal(nan, np.isnan(got)), f"{what}: output '{name}' NaNs differ"
            got, ref = np.where(nan, 0, got), np.where(nan, 0, ref)
        masked_actual[name], masked_expected[name] = got, ref
    assert_close(masked_actual, masked_expected, what)


def run_case(case: Path, model: onnx.ModelProto) -> str | None:
    """None when the case passes, else what went wrong."""
    try:
        ir = load(str(case / "model.onnx"))
        tflite = ir.to_bytes()
        for feeds, expected in data_sets(case, model):
            with np.errstate(invalid="ignore"):  # cases computing sqrt/pow of negatives expect NaN
                assert_matches(ir.run(feeds), expected, "reference evaluator")
            assert_matches(litert_run(tflite, feeds), expected, "ai-edge-litert")
    except Exception as e:  # any failure of an in-scope case is reported with its case name, none stops the run
        return f"{case.parent.name}/{case.name}: {type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"
    return None


def test_pytorch_backend_cases():
    cases = case_dirs()
    assert len(cases) > 100, f"expected the onnx wheel's PyTorch backend cases under {DATA}"
    models = {c: onnx.load(str(c / "model.onnx")) for c in cases}
    scoped = [c for c in cases if in_scope(models[c])]
    failures = [f for f in (run_case(c, models[c]) for c in scoped) if f is not None]
    print(f"\nconformance: {len(scoped) - len(failures)} passed, {len(failures)} failed, "
          f"{len(cases) - len(scoped)} out of scope")
    assert not failures, "\n".join(failures)
