"""Real models nobody here wrote: PP-OCR det, rec and cls (rapidocr-onnxruntime 1.4.4) convert with fixed
input shapes and match onnxruntime; cls and det keep no TRANSPOSE except at the I/O boundary, none with
--nhwc-io."""
import numpy as np
import onnx
import pytest

from onnx_harness import check_onnx_model
from realmodels import rapidocr_models

pytestmark = [pytest.mark.realmodel, pytest.mark.slow]

SHAPES = {"det": [1, 3, 640, 640], "rec": [1, 3, 48, 320], "cls": [1, 3, 48, 192]}


def model_path(kind: str) -> str:
    return next(p for name, p in rapidocr_models().items() if f"_{kind}_" in name or name == kind)


def image_like(shape, seed=0):
    """Normalized-image statistics, as the PP-OCR preprocessing produces (roughly [-1, 1])."""
    return {"x": np.random.default_rng(seed).uniform(-1, 1, shape).astype(np.float32)}


def boundary_violations(model):
    """TRANSPOSE ops that neither read a graph input nor write a graph output."""
    g = model.graph
    ins, outs = {id(t) for t in g.inputs}, {id(t) for t in g.outputs}
    return [op for op in g.ops if op.type == "TRANSPOSE"
            and id(op.inputs[0]) not in ins and id(op.outputs[0]) not in outs]


@pytest.mark.parametrize("kind", ["cls", "det", "rec"])
def test_converts_and_matches_onnxruntime(kind):
    proto = onnx.load(model_path(kind))
    ir = check_onnx_model(proto, image_like(SHAPES[kind]), input_shapes={"x": SHAPES[kind]})
    if kind in ("cls", "det"):
        assert not boundary_violations(ir), boundary_violations(ir)


@pytest.mark.parametrize("kind", ["cls", "det"])
def test_nhwc_io_has_no_transpose(kind):
    proto = onnx.load(model_path(kind))
    ir = check_onnx_model(proto, image_like(SHAPES[kind], seed=1), input_shapes={"x": SHAPES[kind]}, nhwc_io=True)
    assert [op for op in ir.graph.ops if op.type == "TRANSPOSE"] == []
    assert ir.graph.inputs[0].shape == (1, SHAPES[kind][2], SHAPES[kind][3], 3)
