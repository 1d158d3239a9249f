"""ONNX normalizations, and the LayerNorm and GELU decompositions fused back, through the importer:
onnxruntime vs ai-edge-litert vs our reference evaluator."""
import math

import numpy as np
import pytest
from onnx import helper

from edgepress.convert.onnx.importer import import_onnx
from edgepress.errors import ConversionError
from onnx_build import In, graph_model, node_model, op_types
from onnx_harness import check_onnx_model

RNG = np.random.default_rng(13)


def const(*shape):
    return RNG.standard_normal(shape).astype(np.float32)


def bn_params(c):
    return [const(c), const(c), const(c), RNG.uniform(0.5, 2.0, c).astype(np.float32)]


@pytest.mark.parametrize("opset", [11, 14, 15])
@pytest.mark.parametrize("x_shape", [(2, 3), (2, 3, 7), (2, 3, 4, 5), (1, 3, 2, 3, 4)])
def test_batch_norm(x_shape, opset):
    ir = check_onnx_model(node_model("BatchNormalization", [In(x_shape), *bn_params(3)], opset=opset,
                                     epsilon=1e-3))
    assert set(op_types(ir)) <= {"MUL", "ADD", "TRANSPOSE"}


def test_batch_norm_folds_into_the_conv():
    nodes = [helper.make_node("Conv", ["x", "w", "b"], ["c"], pads=[1, 1, 1, 1]),
             helper.make_node("BatchNormalization", ["c", "s", "bb", "m", "v"], ["y"], name="bn")]
    consts = dict(zip(["w", "b", "s", "bb", "m", "v"], [const(4, 3, 3, 3), const(4), *bn_params(4)]))
    ir = check_onnx_model(graph_model(nodes, {"x": In((1, 3, 6, 6))}, consts, ["y"], 13))
    assert "CONV_2D" in op_types(ir) and not {"MUL", "ADD"} & set(op_types(ir))


def test_batch_norm_training_outputs_are_rejected():
    model = node_model("BatchNormalization", [In((2, 3, 4, 4)), *bn_params(3)], opset=15, n_out=3,
                       training_mode=1)
    with pytest.raises(ConversionError, match="batchnormalization_node.*training"):
        import_onnx(model)


@pytest.mark.parametrize("x_shape", [(2, 3, 7), (2, 3, 4, 5), (1, 3, 2, 3, 4)])
def test_instance_norm(x_shape):
    ir = check_onnx_model(node_model("InstanceNormalization", [In(x_shape), const(3), const(3)], epsilon=1e-3))
    assert "RSQRT" in op_types(ir)


@pytest.mark.parametrize("axis,x_shape", [(-1, (2, 5, 8)), (1, (2, 5, 8)), (-2, (2, 3, 4, 6)), (0, (3, 4))])
@pytest.mark.parametrize("with_bias", [True, False])
def test_layer_norm(axis, x_shape, with_bias):
    norm_shape = x_shape[axis:]
    args = [In(x_shape), const(*norm_shape)] + ([const(*norm_shape)] if with_bias else [])
    ir = check_onnx_model(node_model("LayerNormalization", args, opset=17, axis=axis, epsilon=1e-3))
    assert "RSQRT" in op_types(ir) and op_types(ir).count("MEAN") == 2


def test_layer_norm_mean_and_inv_std_outputs():
    check_onnx_model(node_model("LayerNormalization", [In((2, 5, 8)), const(8), const(8)], opset=17, n_out=3))


# -- the decomposed LayerNorm (PyTorch before opset 17, Paddle) --------------------------------------
def decomposed_layer_norm(opset=13, axes=(-1,), square="Pow", gamma=True, beta=True, extra_use=False):
    """ReduceMean, Sub, Pow 2 (or Mul d*d), ReduceMean, Add eps, Sqrt, Div, [Mul gamma], [Add beta]."""
    def mean(src, dst):
        if opset >= 18:
            return helper.make_node("ReduceMean", [src, "axes"], [dst])
        return helper.make_node("ReduceMean", [src], [dst], axes=list(axes))
    nodes = [mean("x", "m"), helper.make_node("Sub", ["x", "m"], ["d"]),
             helper.make_node("Pow", ["d", "two"], ["p"]) if square == "Pow"
             else helper.make_node("Mul", ["d", "d"], ["p"]),
             mean("p", "v"), helper.make_node("Add", ["v", "eps"], ["e"]), helper.make_node("Sqrt", ["e"], ["s"]),
             helper.make_node("Div", ["d", "s"], ["n"])]
    last = "n"
    if gamma:
        nodes.append(helper.make_node("Mul", [last, "gamma"], ["g"]))
        last = "g"
    if beta:
        nodes.append(helper.make_node("Add", ["beta", last], ["b"]))
        last = "b"
    nodes.append(helper.make_node("Identity", [last], ["y"]))
    outputs = ["y"]
    if extra_use:
        outputs.append("v")
    return nodes, outputs


LAYER_NORMS = [
    ((2, 5, 8), dict(), (8,)),
    ((2, 5, 8), dict(opset=18), (8,)),
    ((2, 5, 8), dict(square="Mul"), (8,)),
    ((2, 5, 8), dict(gamma=False), (8,)),
    ((2, 5, 8), dict(gamma=False, beta=False), (8,)),
    ((2, 3, 4, 8), dict(axes=(2, 3)), (4, 8)),
    ((2, 5, 8), dict(axes=(2,)), (8,)),
]


@pytest.mark.parametrize("x_shape,variant,param_shape", LAYER_NORMS)
def test_decomposed_layer_norm_is_fused(x_shape, variant, param_shape):
    nodes, outputs = decomposed_layer_norm(**variant)
    consts = {"two": np.array(2.0, np.float32), "eps": np.array(1e-5, np.float32),
              "gamma": const(*param_shape), "beta": const(*param_shape), "axes": np.array([-1], np.int64)}
    used = {i for n in nodes for i in n.input}
    model = graph_model(nodes, {"x": In(x_shape)}, {k: v for k, v in consts.items() if k in used}, outputs,
                        variant.get("opset", 13))
    ir = check_onnx_model(model)
    assert "RSQRT" in op_types(ir) and not {"SQRT", "DIV", "POW"} & set(op_types(ir))


@pytest.mark.parametrize("x_shape,variant", [((2, 5, 8), dict(axes=(1,))), ((2, 5, 8), dict(extra_use=True))])
def test_layer_norm_lookalikes_stay_unfused(x_shape, variant):
    """Not over the trailing axes, or an intermediate used outside: computed as written."""
    nodes, outputs = decomposed_layer_norm(**variant)
    consts = {"two": np.array(2.0, np.float32), "eps": np.array(1e-5, np.float32),
              "gamma": const(*x_shape[1:]), "beta": const(*x_shape[1:])}
    ir = check_onnx_model(graph_model(nodes, {"x": In(x_shape)}, consts, outputs, 13))
    assert "SQRT" in op_types(ir)


# -- GELU --------------------------------------------------------------------------------------------
GELU_CONSTS = {"sqrt2": math.sqrt(2), "inv_sqrt2": 1 / math.sqrt(2), "one": 1.0, "half": 0.5,
               "k": math.sqrt(2 / math.pi), "cubic": 0.044715, "three": 3.0}


def gelu_graph(nodes, outputs=("y",)):
    used = {i for n in nodes for i in n.input}
    consts = {k: np.array(v, np.float32) for k, v in GELU_CONSTS.items() if k in used}
    return graph_model(nodes, {"x": In((2, 3, 16))}, consts, list(outputs), 13)


def mk(op, inputs, output):
    return helper.make_node(op, inputs, [output])


ERF_GELUS = {
    "pytorch": [mk("Div", ["x", "sqrt2"], "a"), mk("Erf", ["a"], "b"), mk("Add", ["b", "one"], "c"),
                mk("Mul", ["x", "c"], "d"), mk("Mul", ["d", "half"], "y")],
    "half_first": [mk("Mul", ["x", "half"], "h"), mk("Mul", ["inv_sqrt2", "x"], "a"), mk("Erf", ["a"], "b"),
                   mk("Add", ["one", "b"], "c"), mk("Mul", ["h", "c"], "y")],
    "half_of_sum": [mk("Div", ["x", "sqrt2"], "a"), mk("Erf", ["a"], "b"), mk("Add", ["b", "one"], "c"),
                    mk("Mul", ["c", "half"], "d"), mk("Mul", ["x", "d"], "y")],
}
TANH_HEAD = [mk("Mul", ["cubic", "p3"], "t"), mk("Add", ["x", "t"], "u"), mk("Mul", ["k", "u"], "v"),
             mk("Tanh", ["v"], "w"), mk("Add", ["one", "w"], "f"), mk("Mul", ["half", "x"], "h"),
             mk("Mul", ["h", "f"], "y")]
TANH_GELUS = {
    "pow": [mk("Pow", ["x", "three"], "p3"), *TANH_HEAD],
    "mul_mul": [mk("Mul", ["x", "x"], "sq"), mk("Mul", ["sq", "x"], "p3"), *TANH_HEAD],
}


@pytest.mark.parametrize("name", sorted(ERF_GELUS))
def test_erf_gelu_is_fused(name):
    ir = check_onnx_model(gelu_graph(ERF_GELUS[name]))
    assert op_types(ir) == ["GELU"] and not ir.graph.ops[0].options["approximate"]


@pytest.mark.parametrize("name", sorted(TANH_GELUS))
def test_tanh_gelu_is_fused(name):
    ir = check_onnx_model(gelu_graph(TANH_GELUS[name]))
    assert op_types(ir) == ["GELU"] and ir.graph.ops[0].options["approximate"]


def test_gelu_op_itself():
    ir = check_onnx_model(node_model("Gelu", [In((2, 16))], opset=20, approximate="tanh"))
    assert op_types(ir) == ["GELU"]


def test_gelu_with_an_intermediate_used_elsewhere_stays_unfused():
    nodes = ERF_GELUS["pytorch"][:-1] + [mk("Mul", ["d", "half"], "y0"), mk("Add", ["y0", "c"], "y")]
    ir = check_onnx_model(gelu_graph(nodes))
    assert "GELU" not in op_types(ir)
