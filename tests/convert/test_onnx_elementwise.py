"""ONNX elementwise ops through the importer: onnxruntime vs ai-edge-litert vs our reference evaluator."""
import numpy as np
import pytest
from onnx import TensorProto, helper

from edgepress.convert.onnx.importer import import_onnx
from edgepress.errors import ConversionError
from onnx_build import In, graph_model, node_model, op_types
from onnx_harness import check_onnx_model

RNG = np.random.default_rng(7)

BROADCASTS = [
    ((2, 3, 4, 5), (2, 3, 4, 5)),
    ((2, 3, 4, 5), (5,)),
    ((2, 3, 4, 5), (3, 1, 1)),
    ((1, 3, 1, 5), (2, 1, 4, 1)),
    ((4,), (2, 3, 4)),
    ((2, 3), ()),
    ((1, 2, 1, 3, 1, 2), (2, 1, 3, 1, 2)),
]


def positive(shape, low=0.5, high=2.0, dtype=np.float32):
    return RNG.uniform(low, high, shape).astype(dtype)


@pytest.mark.parametrize("op", ["Add", "Sub", "Mul", "Div"])
@pytest.mark.parametrize("a_shape,b_shape", BROADCASTS)
@pytest.mark.parametrize("b_const", [False, True])
def test_arithmetic_broadcast(op, a_shape, b_shape, b_const):
    b = positive(b_shape)
    model = node_model(op, [In(a_shape), b if b_const else In(b_shape)])
    feeds = {"x0": RNG.standard_normal(a_shape).astype(np.float32), **({} if b_const else {"x1": b})}
    ir = check_onnx_model(model, feeds)
    assert len(ir.graph.ops) >= 1


@pytest.mark.parametrize("opset", [11, 13, 14, 21])
def test_add_across_opsets(opset):
    check_onnx_model(node_model("Add", [In((2, 3, 4)), In((3, 4))], opset=opset))


@pytest.mark.parametrize("dtype", ["int32", "int64"])
@pytest.mark.parametrize("op", ["Add", "Sub", "Mul", "Max", "Min"])
def test_integer_arithmetic(op, dtype):
    model = node_model(op, [In((3, 4), dtype), In((4,), dtype)])
    check_onnx_model(model, {"x0": RNG.integers(-50, 50, (3, 4)).astype(dtype),
                             "x1": RNG.integers(-50, 50, (4,)).astype(dtype)})


@pytest.mark.parametrize("dtype", ["int32", "int64"])
@pytest.mark.parametrize("b_const", [False, True])
def test_integer_div_truncates_toward_zero(dtype, b_const):
    a = np.array([[7, -7, 7, -7, 0, 9, -9, 1]], dtype)
    b = np.array([2, 2, -2, -2, 3, 4, 4, -5], dtype)
    model = node_model("Div", [In(a.shape, dtype), b if b_const else In(b.shape, dtype)])
    ir = check_onnx_model(model, {"x0": a, **({} if b_const else {"x1": b})})
    out = ir.run({"x0": a, **({} if b_const else {"x1": b})})["y0"]
    np.testing.assert_array_equal(out, [[3, -3, -3, 3, 0, 2, -2, 0]])


def test_integer_div_of_constants_folds():
    nodes = [helper.make_node("Div", ["a", "b"], ["q"]), helper.make_node("Add", ["x", "q"], ["y"])]
    consts = {"a": np.array([7, -7, 7, -7], np.int64), "b": np.array([2, 2, -2, -2], np.int64)}
    model = graph_model(nodes, {"x": In((4,), "int64")}, consts, ["y"], 13)
    ir = check_onnx_model(model, {"x": np.zeros(4, np.int64)})
    assert op_types(ir) == ["ADD"]


@pytest.mark.parametrize("exponent,lowered", [(2.0, "MUL"), (0.5, "SQRT"), (3.0, "POW"), (-1.5, "POW"),
                                              (np.full((4,), 2.0, np.float32), "MUL"),
                                              (np.array([1.0, 2.0, 0.5, 3.0], np.float32), "POW")])
def test_pow_constant_exponent(exponent, lowered):
    model = node_model("Pow", [In((2, 3, 4)), np.asarray(exponent, np.float32)])
    ir = check_onnx_model(model, {"x0": positive((2, 3, 4))})
    assert op_types(ir) == [lowered]


def test_pow_exponent_one_is_identity():
    model = node_model("Pow", [In((2, 3)), np.float32(1.0)])
    ir = check_onnx_model(model, {"x0": positive((2, 3))})
    assert "POW" not in op_types(ir)


def test_pow_runtime_and_integer_exponent():
    check_onnx_model(node_model("Pow", [In((2, 3)), In((3,))]), {"x0": positive((2, 3)), "x1": positive((3,))})
    ir = check_onnx_model(node_model("Pow", [In((2, 3)), np.array(2, np.int64)], opset=15),
                          {"x0": positive((2, 3))})
    assert op_types(ir) == ["MUL"]


UNARY_FEEDS = {
    "Sqrt": lambda s: positive(s, 0.0, 4.0),
    "Reciprocal": lambda s: positive(s) * np.where(RNG.random(s) > 0.5, 1, -1).astype(np.float32),
    "Exp": lambda s: RNG.uniform(-5, 5, s).astype(np.float32),
    "Log": lambda s: positive(s, 0.01, 10.0),
    "Neg": lambda s: RNG.standard_normal(s).astype(np.float32),
    "Abs": lambda s: RNG.standard_normal(s).astype(np.float32),
    "Floor": lambda s: RNG.uniform(-5, 5, s).astype(np.float32),
    "Ceil": lambda s: RNG.uniform(-5, 5, s).astype(np.float32),
    "Round": lambda s: (RNG.integers(-10, 10, s) / 2).astype(np.float32),  # many exact .5 ties
    "Sin": lambda s: RNG.uniform(-6, 6, s).astype(np.float32),
    "Cos": lambda s: RNG.uniform(-6, 6, s).astype(np.float32),
    "Sign": lambda s: RNG.integers(-2, 3, s).astype(np.float32),
}


@pytest.mark.parametrize("op", sorted(UNARY_FEEDS))
@pytest.mark.parametrize("opset", [11, 13])
def test_unary(op, opset):
    shape = (2, 3, 5)
    check_onnx_model(node_model(op, [In(shape)], opset=opset), {"x0": UNARY_FEEDS[op](shape)})


@pytest.mark.parametrize("op", ["Neg", "Abs", "Sign"])
def test_unary_int32(op):
    x = RNG.integers(-9, 9, (3, 4)).astype(np.int32)
    check_onnx_model(node_model(op, [In(x.shape, "int32")]), {"x0": x})


@pytest.mark.parametrize("op", ["Max", "Min", "Sum", "Mean"])
@pytest.mark.parametrize("shapes", [[(2, 3)], [(2, 3), (2, 3)], [(2, 1, 4), (3, 1), (4,)],
                                    [(2, 3, 4), (2, 3, 4), (2, 3, 4), (4,)]])
def test_variadic(op, shapes):
    check_onnx_model(node_model(op, [In(s) for s in shapes]))


@pytest.mark.parametrize("op", ["Equal", "Less", "Greater", "LessOrEqual", "GreaterOrEqual"])
@pytest.mark.parametrize("dtype", ["float32", "int32", "int64"])
def test_comparisons(op, dtype):
    a = RNG.integers(-3, 3, (2, 3, 4)).astype(dtype)
    b = RNG.integers(-3, 3, (3, 1)).astype(dtype)
    ir = check_onnx_model(node_model(op, [In(a.shape, dtype), In(b.shape, dtype)]), {"x0": a, "x1": b})
    assert ir.graph.outputs[0].dtype == "bool"


def test_comparison_with_constant_scalar():
    check_onnx_model(node_model("Greater", [In((2, 5)), np.float32(0.25)]))


@pytest.mark.parametrize("op", ["And", "Or", "Xor"])
def test_logic(op):
    check_onnx_model(node_model(op, [In((2, 3, 4), "bool"), In((4,), "bool")]))


def test_not():
    check_onnx_model(node_model("Not", [In((2, 3), "bool")]))


@pytest.mark.parametrize("shapes", [[(2, 3, 4)] * 3, [(3, 1), (2, 3, 4), (4,)], [(2, 1, 4), (1,), (2, 3, 1)]])
def test_where(shapes):
    c, x, y = shapes
    check_onnx_model(node_model("Where", [In(c, "bool"), In(x), In(y)]))


def test_where_constant_branch():
    check_onnx_model(node_model("Where", [In((2, 3, 4), "bool"), In((2, 3, 4)), np.float32(-1.0)]))


def test_lower_rank_operands_get_explicit_rank():
    ir = check_onnx_model(node_model("Add", [In((2, 3, 4, 5)), positive((3, 1, 1))]))
    add = next(op for op in ir.graph.ops if op.type == "ADD")
    assert [t.rank for t in add.inputs] == [4, 4]


@pytest.mark.parametrize("op", ["Add", "Exp"])
def test_float64_compute_is_rejected_at_conversion(op):
    """TFLite has no float64 arithmetic kernels: a clear error instead of a model the interpreter rejects."""
    args = [In((2, 3), "float64")] * (2 if op == "Add" else 1)
    with pytest.raises(ConversionError, match="float64"):
        import_onnx(node_model(op, args))


def test_float64_constants_still_fold():
    nodes = [helper.make_node("Add", ["a", "b"], ["s"]), helper.make_node("Cast", ["s"], ["f"], to=TensorProto.FLOAT),
             helper.make_node("Mul", ["x", "f"], ["y"])]
    consts = {"a": np.array([1.5, 2.0], np.float64), "b": np.array([0.25, -1.0], np.float64)}
    ir = check_onnx_model(graph_model(nodes, {"x": In((3, 2))}, consts, ["y"], 13))
    assert op_types(ir) == ["MUL"]
