"""ONNX activations, softmax, Identity and Dropout through the importer: onnxruntime vs ai-edge-litert vs
our reference evaluator."""
import math

import numpy as np
import pytest
from onnx import helper, numpy_helper
from onnx.reference import ReferenceEvaluator

from edgepress.convert.onnx.importer import import_onnx
from edgepress.errors import ConversionError
from onnx_build import In, convert, graph_model, node_model, op_types, value_info
from onnx_harness import check_onnx_model, litert_run

RNG = np.random.default_rng(11)


def wide(shape, scale=4.0):
    return (RNG.standard_normal(shape) * scale).astype(np.float32)


@pytest.mark.parametrize("op,lowered", [("Relu", "RELU"), ("Sigmoid", "LOGISTIC"), ("Tanh", "TANH")])
@pytest.mark.parametrize("opset", [11, 13, 14])
def test_direct(op, lowered, opset):
    ir = check_onnx_model(node_model(op, [In((2, 3, 4, 5))], opset=opset), {"x0": wide((2, 3, 4, 5))})
    assert op_types(ir) == [lowered]


def test_relu_int32():
    x = RNG.integers(-5, 5, (3, 4)).astype(np.int32)
    check_onnx_model(node_model("Relu", [In(x.shape, "int32")], opset=14), {"x0": x})


def test_hard_swish():
    ir = check_onnx_model(node_model("HardSwish", [In((2, 8, 3, 3))], opset=14), {"x0": wide((2, 8, 3, 3))})
    assert op_types(ir) == ["HARD_SWISH"]


@pytest.mark.parametrize("alpha", [None, 0.2, 0.01])
def test_leaky_relu(alpha):
    attrs = {} if alpha is None else {"alpha": alpha}
    check_onnx_model(node_model("LeakyRelu", [In((2, 3, 4))], **attrs))


@pytest.mark.parametrize("x_shape,slope", [
    ((2, 3, 4, 5), RNG.uniform(0, 0.5, (3, 1, 1))),
    ((2, 3, 4, 5), RNG.uniform(0, 0.5, (1,))),
    ((2, 3, 4, 5), RNG.uniform(0, 0.5, (5,))),
    ((2, 6), RNG.uniform(0, 0.5, (6,))),
    ((2, 3, 2, 4, 5), RNG.uniform(0, 0.5, (3, 1, 1, 1))),
])
def test_prelu_constant_slope(x_shape, slope):
    ir = check_onnx_model(node_model("PRelu", [In(x_shape), slope.astype(np.float32)]))
    assert "PRELU" in op_types(ir)


@pytest.mark.parametrize("x_shape", [(2, 3, 4), (2, 3, 4, 5)])
def test_prelu_opset6_per_channel_slope(x_shape):
    """PRelu-6 (before NumPy broadcasting) applies a (C,) slope along axis 1, as PyTorch exports it;
    onnxruntime has no PRelu-6 kernel, so NumPy is the oracle."""
    slope = np.array([0.1, 0.2, 0.3], F32)
    graph = helper.make_graph([helper.make_node("PRelu", ["x", "s"], ["y"])], "g",
                              [value_info("x", "float32", x_shape), value_info("s", "float32", (3,))],
                              [value_info("y", "float32", x_shape)], [numpy_helper.from_array(slope, "s")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 6)], ir_version=3)
    x = wide(x_shape)
    expected = np.where(x > 0, x, x * slope.reshape((3,) + (1,) * (len(x_shape) - 2)))
    ir = convert(model)
    np.testing.assert_allclose(ir.run({"x": x})["y"], expected, rtol=1e-6)
    np.testing.assert_allclose(litert_run(ir.to_bytes(), {"x": x})["y"], expected, rtol=1e-6)


def test_prelu_runtime_slope():
    check_onnx_model(node_model("PRelu", [In((2, 3, 4, 5)), In((3, 1, 1))]))


F32 = np.float32
CLIPS = [((F32(0), F32(6)), "RELU6"), ((F32(0), None), "RELU"), ((F32(-1), F32(1)), "RELU_N1_TO_1"),
         ((F32(0), F32(np.inf)), "RELU"), ((F32(-0.5), F32(0.7)), None), ((None, F32(0.3)), None),
         ((F32(2), F32(1)), None), ((None, None), None)]


@pytest.mark.parametrize("bounds,lowered", CLIPS)
@pytest.mark.parametrize("opset", [11, 13])
def test_clip(bounds, lowered, opset):
    ir = check_onnx_model(node_model("Clip", [In((2, 3, 8)), *bounds], opset=opset), {"x0": wide((2, 3, 8))})
    if lowered:
        assert op_types(ir) == [lowered]
    else:
        assert not {"RELU", "RELU6", "RELU_N1_TO_1"} & set(op_types(ir))


def test_clip_runtime_bounds_and_integers():
    check_onnx_model(node_model("Clip", [In((2, 8)), In(()), In(())]),
                     {"x0": wide((2, 8)), "x1": np.array(-1.5, F32), "x2": np.array(0.5, F32)})
    x = RNG.integers(-10, 10, (3, 5)).astype(np.int32)
    ir = check_onnx_model(node_model("Clip", [In(x.shape, "int32"), np.int32(0), np.int32(6)], opset=12),
                          {"x0": x})
    assert op_types(ir) == ["MAXIMUM", "MINIMUM"]


@pytest.mark.parametrize("attrs", [{}, {"alpha": 1 / 6, "beta": 0.5}, {"alpha": 0.3, "beta": 0.1}])
def test_hard_sigmoid(attrs):
    check_onnx_model(node_model("HardSigmoid", [In((2, 3, 4))], **attrs), {"x0": wide((2, 3, 4))})


def hard_sigmoid_mul(alpha, beta, x_first):
    nodes = [helper.make_node("HardSigmoid", ["x"], ["h"], alpha=alpha, beta=beta),
             helper.make_node("Mul", ["x", "h"] if x_first else ["h", "x"], ["y"])]
    return graph_model(nodes, {"x": In((1, 8, 4, 4))}, {}, ["y"], 13)


@pytest.mark.parametrize("x_first", [True, False])
@pytest.mark.parametrize("alpha", [1 / 6, 0.1666667])  # the second as PP-OCR's exporter writes it
def test_x_times_hard_sigmoid_is_hard_swish(x_first, alpha):
    ir = check_onnx_model(hard_sigmoid_mul(alpha, 0.5, x_first), {"x": wide((1, 8, 4, 4))})
    assert op_types(ir) == ["HARD_SWISH"]


def test_x_times_other_hard_sigmoid_is_not_fused():
    ir = check_onnx_model(hard_sigmoid_mul(0.2, 0.5, True), {"x": wide((1, 8, 4, 4))})
    assert "HARD_SWISH" not in op_types(ir)


def clip_hard_swish(form: str, shift=3.0):
    """hardswish spelled with Clip, as paddle2onnx and torch exporters write it."""
    nodes = [helper.make_node("Add", ["x", "shift"], ["a"]), helper.make_node("Clip", ["a", "zero", "six"], ["r"])]
    nodes += {
        "div_product": [helper.make_node("Mul", ["x", "r"], ["m"]), helper.make_node("Div", ["m", "six"], ["y"])],
        "scale_product": [helper.make_node("Mul", ["r", "x"], ["m"]), helper.make_node("Mul", ["sixth", "m"], ["y"])],
        "div_gate": [helper.make_node("Div", ["r", "six"], ["g"]), helper.make_node("Mul", ["g", "x"], ["y"])],
        "scale_gate": [helper.make_node("Mul", ["r", "sixth"], ["g"]), helper.make_node("Mul", ["x", "g"], ["y"])],
    }[form]
    consts = {"shift": np.array([shift], F32), "zero": F32(0), "six": F32(6), "sixth": np.array([0.1666667], F32)}
    return graph_model(nodes, {"x": In((1, 8, 4, 4))}, consts, ["y"], 11)


@pytest.mark.parametrize("form", ["div_product", "scale_product", "div_gate", "scale_gate"])
def test_clip_hard_swish_is_hard_swish(form):
    ir = check_onnx_model(clip_hard_swish(form), {"x": wide((1, 8, 4, 4))})
    assert op_types(ir) == ["HARD_SWISH"]


def test_clip_hard_swish_lookalike_is_not_fused():
    ir = check_onnx_model(clip_hard_swish("div_product", shift=2.0), {"x": wide((1, 8, 4, 4))})
    assert "HARD_SWISH" not in op_types(ir)


def test_hard_swish_intermediate_used_elsewhere_stays():
    nodes = [helper.make_node("HardSigmoid", ["x"], ["h"], alpha=1 / 6, beta=0.5),
             helper.make_node("Mul", ["x", "h"], ["y"]), helper.make_node("Neg", ["h"], ["z"])]
    ir = check_onnx_model(graph_model(nodes, {"x": In((2, 5))}, {}, ["y", "z"], 13), {"x": wide((2, 5))})
    assert "HARD_SWISH" in op_types(ir)


@pytest.mark.parametrize("op,attrs", [("Elu", {}), ("Elu", {"alpha": 0.5}), ("Selu", {}),
                                      ("Selu", {"alpha": 1.5, "gamma": 1.1}), ("Softplus", {})])
def test_composed(op, attrs):
    check_onnx_model(node_model(op, [In((3, 40))], **attrs), {"x0": wide((3, 40), 8.0)})


def test_softplus_extremes():
    x = np.array([[-100, -20, -1e-3, 0, 1e-3, 20, 100, 89, -89]], np.float32)
    check_onnx_model(node_model("Softplus", [In(x.shape)]), {"x0": x})


def test_erf_accuracy():
    x = np.linspace(-6, 6, 4001, dtype=np.float32).reshape(1, -1)
    ir = check_onnx_model(node_model("Erf", [In(x.shape)]), {"x0": x})
    exact = np.array([math.erf(v) for v in x.ravel().astype(np.float64)])
    for engine, y in (("reference", ir.run({"x0": x})["y0"]), ("litert", litert_run(ir.to_bytes(), {"x0": x})["y0"])):
        err = np.max(np.abs(y.ravel() - exact))
        assert err < 2e-6, (engine, err)


@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_gelu(approximate):
    ir = check_onnx_model(node_model("Gelu", [In((2, 16))], opset=20, approximate=approximate),
                          {"x0": wide((2, 16))})
    assert op_types(ir) == ["GELU"]


@pytest.mark.parametrize("op", ["Softmax", "LogSoftmax"])
@pytest.mark.parametrize("opset", [11, 13])
@pytest.mark.parametrize("shape,axis", [((4, 7), None), ((4, 7), 0), ((2, 3, 5), None), ((2, 3, 5), 1),
                                        ((2, 3, 5), -1), ((2, 3, 4, 5), 1), ((2, 3, 4, 5), 2),
                                        ((2, 3, 4, 5), 3)])
def test_softmax(op, opset, shape, axis):
    attrs = {} if axis is None else {"axis": axis}
    check_onnx_model(node_model(op, [In(shape)], opset=opset, **attrs), {"x0": wide(shape)})


def test_identity_and_dropout():
    nodes = [helper.make_node("Relu", ["x"], ["r"]), helper.make_node("Identity", ["r"], ["i"]),
             helper.make_node("Dropout", ["i"], ["y"], ratio=0.5)]
    ir = check_onnx_model(graph_model(nodes, {"x": In((2, 3))}, {}, ["y"], 11))
    assert op_types(ir) == ["RELU"]


def dropout_mask_model(opset):
    nodes = [helper.make_node("Dropout", ["x"], ["d", "mask"]), helper.make_node("Neg", ["d"], ["y"]),
             helper.make_node("Not", ["mask"], ["m"]), helper.make_node("Or", ["m", "b"], ["z"])]
    return graph_model(nodes, {"x": In((2, 3)), "b": In((2, 3), "bool")}, {}, ["y", "z"], opset)


@pytest.mark.parametrize("opset", [12, 13, 21])
def test_dropout_mask(opset):
    check_onnx_model(dropout_mask_model(opset))


def test_dropout_mask_opset11_follows_the_spec():
    """The inference mask is all true (the ONNX reference's reading); onnxruntime's Dropout-10 kernel
    returns all false instead, so the ONNX reference evaluator is the oracle here."""
    model = dropout_mask_model(11)
    feeds = {"x": RNG.standard_normal((2, 3)).astype(F32), "b": np.array([[1, 0, 1], [0, 0, 1]], bool)}
    y, z = ReferenceEvaluator(model).run(None, feeds)
    ours = convert(model).run(feeds)
    np.testing.assert_array_equal(ours["z"], z)
    np.testing.assert_array_equal(ours["y"], y)


def test_dropout_training_mode_is_rejected():
    model = node_model("Dropout", [In((2, 3)), np.float32(0.5), np.bool_(True)], opset=13)
    with pytest.raises(ConversionError, match="training_mode"):
        import_onnx(model)
