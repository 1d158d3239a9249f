"""ONNX Reduce* and ArgMax/ArgMin through the importer: onnxruntime vs ai-edge-litert vs our reference
evaluator, with axes as attribute (before opset 13/18) and as input (since)."""
import numpy as np
import pytest

from edgepress.convert.onnx.importer import import_onnx
from edgepress.errors import ConversionError
from onnx_build import In, node_model, op_types
from onnx_harness import check_onnx_model

RNG = np.random.default_rng(3)
SHAPE = (2, 3, 4, 5)
REDUCERS = ["ReduceMean", "ReduceMax", "ReduceMin", "ReduceSum", "ReduceProd", "ReduceL1", "ReduceL2",
            "ReduceSumSquare", "ReduceLogSum", "ReduceLogSumExp"]


def reduce_model(op, opset, axes, keepdims=None, noop=None, shape=SHAPE, dtype="float32"):
    axes_as_input = opset >= (13 if op == "ReduceSum" else 18)
    args, attrs = [In(shape, dtype)], {}
    if axes is not None and axes_as_input:
        args.append(np.array(axes, np.int64))
    elif axes is not None:
        attrs["axes"] = axes
    if keepdims is not None:
        attrs["keepdims"] = keepdims
    if noop is not None:
        attrs["noop_with_empty_axes"] = noop
    return node_model(op, args, opset=opset, **attrs)


def feeds_for(op, shape=SHAPE):
    if op in ("ReduceLogSum", "ReduceProd"):  # positive sums; products of moderate size
        return {"x0": RNG.uniform(0.5, 1.5, shape).astype(np.float32)}
    return {"x0": RNG.standard_normal(shape).astype(np.float32)}


@pytest.mark.parametrize("op", REDUCERS)
@pytest.mark.parametrize("opset", [13, 18])
@pytest.mark.parametrize("axes,keepdims", [([1], 1), ([-1], 0), ([0, 2], 1), ([3, 1], 0), (None, 1),
                                           (None, 0)])
def test_reduce(op, opset, axes, keepdims):
    check_onnx_model(reduce_model(op, opset, axes, keepdims), feeds_for(op))


@pytest.mark.parametrize("op", ["ReduceMean", "ReduceSum", "ReduceMax"])
@pytest.mark.parametrize("opset", [11, 21])
def test_reduce_old_and_new_opsets(op, opset):
    check_onnx_model(reduce_model(op, opset, [2, 3]), feeds_for(op))


@pytest.mark.parametrize("op,opset", [("ReduceSum", 13), ("ReduceMean", 18)])
def test_noop_with_empty_axes(op, opset):
    model = reduce_model(op, opset, None, noop=1)
    ir = check_onnx_model(model, feeds_for(op))
    assert not {"SUM", "MEAN"} & set(op_types(ir))


def test_reduce_integer_sum_and_max():
    x = RNG.integers(-20, 20, SHAPE).astype(np.int32)
    check_onnx_model(reduce_model("ReduceSum", 13, [1, 2], 0, dtype="int32"), {"x0": x})
    check_onnx_model(reduce_model("ReduceMax", 13, [3], 1, dtype="int32"), {"x0": x})


def test_reduce_log_sum_exp_large_values():
    x = (RNG.standard_normal(SHAPE) * 30 + 60).astype(np.float32)
    check_onnx_model(reduce_model("ReduceLogSumExp", 13, [3], 0), {"x0": x})


@pytest.mark.parametrize("op", ["ArgMax", "ArgMin"])
@pytest.mark.parametrize("axis,keepdims", [(0, 1), (1, 0), (-1, 1), (3, 0), (None, None)])
@pytest.mark.parametrize("opset", [11, 13])
def test_arg(op, axis, keepdims, opset):
    attrs = {k: v for k, v in (("axis", axis), ("keepdims", keepdims)) if v is not None}
    ir = check_onnx_model(node_model(op, [In(SHAPE)], opset=opset, **attrs))
    assert ir.graph.outputs[0].dtype == "int64"


def test_arg_ties_pick_the_first_index():
    x = np.array([[1, 3, 3, 0], [2, 2, 2, 2]], np.float32)
    ir = check_onnx_model(node_model("ArgMax", [In(x.shape)], axis=1, keepdims=0), {"x0": x})
    np.testing.assert_array_equal(ir.run({"x0": x})["y0"], [1, 0])


def test_arg_select_last_index_is_rejected():
    with pytest.raises(ConversionError, match="select_last_index"):
        import_onnx(node_model("ArgMax", [In(SHAPE)], opset=12, axis=1, select_last_index=1))
