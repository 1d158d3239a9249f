"""ONNX Gemm and MatMul through the importer: onnxruntime vs ai-edge-litert vs our reference evaluator."""
import numpy as np
import pytest

from edgepress.convert.onnx.importer import import_onnx
from edgepress.errors import ConversionError
from onnx_build import In, node_model, op_types
from onnx_harness import check_onnx_model

RNG = np.random.default_rng(7)


def const(*shape):
    return RNG.standard_normal(shape).astype(np.float32)


GEMM = [
    # A, B, C (In: run-time input, array: constant, None: omitted), attributes, the matrix op it becomes
    (In((3, 4)), const(4, 5), const(5), {}, "FULLY_CONNECTED"),
    (In((3, 4)), const(5, 4), const(5), {"transB": 1, "alpha": 0.5, "beta": 2.0}, "FULLY_CONNECTED"),
    (In((4, 3)), const(4, 5), const(3, 5), {"transA": 1}, "FULLY_CONNECTED"),
    (In((3, 4)), const(4, 5), const(1), {"beta": -1.5}, "FULLY_CONNECTED"),
    (In((3, 4)), const(4, 5), const(1, 5), {}, "FULLY_CONNECTED"),
    (In((3, 4)), const(4, 5), const(3, 1), {}, "FULLY_CONNECTED"),
    (In((3, 4)), const(4, 5), None, {"alpha": 3.0}, "FULLY_CONNECTED"),
    (In((3, 4)), const(4, 5), const(5), {"beta": 0.0}, "FULLY_CONNECTED"),
    (In((3, 4)), const(4, 5), In((3, 5)), {"beta": 0.5}, "FULLY_CONNECTED"),
    (In((4, 3)), In((5, 4)), const(5), {"transA": 1, "transB": 1, "alpha": 1.5, "beta": 0.5}, "BATCH_MATMUL"),
    (In((3, 4)), In((4, 5)), None, {}, "BATCH_MATMUL"),
]


@pytest.mark.parametrize("opset", [11, 13])
@pytest.mark.parametrize("a,b,c,attrs,lowered", GEMM)
def test_gemm(a, b, c, attrs, lowered, opset):
    args = [a, b] + ([c] if c is not None else [])
    ir = check_onnx_model(node_model("Gemm", args, opset=opset, **attrs))
    assert lowered in op_types(ir)


MATMUL = [
    (In((3, 4)), const(4, 5), "FULLY_CONNECTED"),
    (In((2, 3, 4)), const(4, 5), "FULLY_CONNECTED"),
    (In((2, 2, 3, 4)), const(4, 5), "FULLY_CONNECTED"),
    (In((4,)), const(4, 5), "FULLY_CONNECTED"),
    (In((2, 3, 4)), const(4), "FULLY_CONNECTED"),
    (In((2, 3, 4)), const(2, 4, 5), "BATCH_MATMUL"),
    (In((2, 1, 3, 4)), In((3, 4, 5)), "BATCH_MATMUL"),
    (In((3, 4)), In((2, 4, 5)), "BATCH_MATMUL"),
    (In((4,)), In((2, 4, 5)), "BATCH_MATMUL"),
    (In((2, 3, 4)), In((4,)), "BATCH_MATMUL"),
    (In((2, 3, 4)), In((2, 4, 5)), "BATCH_MATMUL"),
]


@pytest.mark.parametrize("a,b,lowered", MATMUL)
def test_matmul(a, b, lowered):
    ir = check_onnx_model(node_model("MatMul", [a, b]))
    assert lowered in op_types(ir)


def test_matmul_dynamic_batch():
    check_onnx_model(node_model("MatMul", [In((None, 6, 4)), const(4, 5)]), {"x0": const(3, 6, 4)})


def test_integer_matmul_is_rejected_with_the_node_name():
    model = node_model("MatMul", [In((3, 4), "int32"), np.ones((4, 5), np.int32)])
    with pytest.raises(ConversionError, match="matmul_node.*int32"):
        import_onnx(model)
