"""fuse_activations: clamps become RELU/RELU6/RELU_N1_TO_1 and fuse into producers whose TFLite kernels
apply them; activations TFLite would ignore or reject stay separate."""
import numpy as np
import pytest

from edgepress.convert.passes import fuse_activations
from edgepress.convert.reference import evaluate
from onnx_harness import litert_run, tflite_runtime_run
from test_pass_graphs import Builder, count, feeds_for, run_pass

CONV = {"padding": "SAME", "stride_h": 1, "stride_w": 1}


def conv(b, x):
    return b.op("CONV_2D", [x, b.rand((4, 3, 3, 3)), b.rand((4,))], CONV)


def producer_graph(producer, act, seed=1):
    b = Builder(seed)
    x = b.input("x", (1, 5, 5, 3))
    if producer == "CONV_2D":
        y = conv(b, x)
    elif producer == "DEPTHWISE_CONV_2D":
        y = b.op(producer, [x, b.rand((1, 3, 3, 3)), b.rand((3,))], {**CONV, "depth_multiplier": 1})
    elif producer == "TRANSPOSE_CONV":
        shape = b.const([1, 10, 10, 4], "int32")
        y = b.op(producer, [shape, b.rand((4, 3, 3, 3)), x, b.rand((4,))], {**CONV, "stride_h": 2, "stride_w": 2})
    elif producer in ("AVERAGE_POOL_2D", "MAX_POOL_2D"):
        pool = {"padding": "VALID", "stride_h": 2, "stride_w": 2, "filter_height": 2, "filter_width": 2}
        y = b.op(producer, [x], pool)
    elif producer == "FULLY_CONNECTED":
        y = b.op(producer, [x, b.rand((4, 3)), b.rand((4,))], {"keep_num_dims": True})
    else:  # binary ops: their input is scaled up first so that every clamp bites
        y = b.op(producer, [b.op("MUL", [x, b.const(4.0)]), b.const(b.rng.uniform(0.5, 2.0, 3))])
    b.output(b.op(act, [y]), "y")
    return b


@pytest.mark.parametrize("act", ["RELU", "RELU6", "RELU_N1_TO_1"])
@pytest.mark.parametrize("producer", sorted(fuse_activations.PRODUCERS - {"L2_POOL_2D"}))
def test_activation_fuses_into_its_producer_and_tflite_applies_it(act, producer):
    """Checked against the runtimes, not only the reference evaluator: a kernel that ignored the fused
    activation would fail here."""
    b = producer_graph(producer, act)
    out = b.graph.outputs[0]
    feeds = feeds_for(b.graph)
    want = evaluate(b.graph, feeds)["y"]
    changed, _ = run_pass(fuse_activations.run, b.graph)
    assert changed and count(b.graph, act) == 0
    assert b.graph.ops[-1].options["fused_activation_function"] == act and b.graph.ops[-1].outputs[0] is out
    data = b.model().to_bytes()
    for engine in (litert_run, tflite_runtime_run):
        got = engine(data, feeds)
        if got is not None:
            np.testing.assert_allclose(got["y"], want, rtol=1e-5, atol=1e-5, err_msg=engine.__name__)


@pytest.mark.parametrize("low,high,act", [(0.0, 6.0, "RELU6"), (-1.0, 1.0, "RELU_N1_TO_1"), (0.0, None, "RELU")])
@pytest.mark.parametrize("max_first", [True, False])
def test_clip_as_maximum_minimum_becomes_one_fused_activation(low, high, act, max_first):
    b = Builder(2)
    x = b.input("x", (1, 5, 5, 3))
    y = b.op("MUL", [conv(b, x), b.const(4.0)])
    steps = [("MAXIMUM", low), ("MINIMUM", high)]
    for kind, bound in steps if max_first else steps[::-1]:
        if bound is not None:
            y = b.op(kind, [y, b.const(bound)] if kind == "MAXIMUM" else [b.const(bound), y])
    b.output(y, "y")
    run_pass(fuse_activations.run, b.graph)
    assert [op.type for op in b.graph.ops] == ["CONV_2D", "MUL"]
    assert b.graph.ops[-1].options["fused_activation_function"] == act


@pytest.mark.parametrize("act,producer", [("TANH", "CONV_2D"), ("RELU", "CONCATENATION")])
def test_tflite_ignores_the_fusions_the_pass_refuses(act, producer):
    """Why TANH and CONCATENATION are left out: ai-edge-litert runs them as if the activation were NONE."""
    b = Builder(6)
    x = b.input("x", (1, 5, 5, 3))
    y = conv(b, x) if producer == "CONV_2D" else b.op(producer, [x, x], {"axis": 3})
    b.graph.ops[-1].options["fused_activation_function"] = act
    b.output(y, "y")
    feeds = feeds_for(b.graph)
    fused = evaluate(b.graph, feeds)["y"]
    b.graph.ops[-1].options["fused_activation_function"] = "NONE"
    plain = evaluate(b.graph, feeds)["y"]
    b.graph.ops[-1].options["fused_activation_function"] = act
    got = litert_run(b.model().to_bytes(), feeds)["y"]
    np.testing.assert_allclose(got, plain, rtol=1e-5, atol=1e-5)
    assert not np.allclose(got, fused, atol=1e-3)


def test_clamp_after_an_op_without_fused_activation_becomes_a_standalone_op():
    b = Builder(3)
    x = b.input("x", (2, 6))
    r = b.op("RESHAPE", [x, b.const([3, 4], "int32")])
    b.output(b.op("MINIMUM", [b.op("MAXIMUM", [r, b.const(0.0)]), b.const(6.0)]), "y")
    run_pass(fuse_activations.run, b.graph)
    assert [op.type for op in b.graph.ops] == ["RESHAPE", "RELU6"]


def test_what_must_stay_separate():
    b = Builder(4)
    x = b.input("x", (1, 5, 5, 3))
    b.output(b.op("TANH", [conv(b, x)]), "a")  # TFLite kernels ignore a fused TANH (see the next test)
    cat = b.op("CONCATENATION", [x, x], {"axis": 3})
    b.output(b.op("RELU", [cat]), "b")  # TFLite's CONCATENATION rejects fused activations
    shared = conv(b, x)
    b.output(b.op("RELU", [shared]), "c")
    b.output(b.op("NEG", [shared]), "d")  # second reader
    out = b.output(conv(b, x), "e")
    b.output(b.op("RELU", [out]), "f")  # producer output is a graph output
    relu = b.op("CONV_2D", [x, b.rand((4, 1, 1, 3)), b.rand((4,))], {**CONV, "fused_activation_function": "RELU"})
    b.output(b.op("RELU6", [relu]), "g")  # already has one
    b.output(b.op("MINIMUM", [b.op("MAXIMUM", [conv(b, x), b.const(0.0)]), b.const(4.0)]), "h")  # clamp(0, 4)
    ints = b.input("i", (1, 3), "int32")
    b.output(b.op("MAXIMUM", [b.op("ADD", [ints, ints]), b.const(0, "int32")]), "j")  # integer ADD
    run_pass(fuse_activations.run, b.graph)
    assert count(b.graph, "TANH") == 1 and count(b.graph, "RELU6") == 1
    assert count(b.graph, "RELU") == 3  # b, c, f; h's MAXIMUM(x, 0) became a RELU fused into its conv
    assert count(b.graph, "MINIMUM") == 1 and count(b.graph, "MAXIMUM") == 1
    assert [op.options["fused_activation_function"] for op in b.graph.ops if op.type == "CONV_2D"] == \
        ["NONE", "NONE", "NONE", "RELU", "RELU"]


def test_fuses_across_a_reshape():
    b = Builder(5)
    x = b.input("x", (1, 5, 5, 3))
    out = b.output(b.op("RELU6", [b.op("RESHAPE", [conv(b, x), b.const([25, 4], "int32")])]), "y")
    run_pass(fuse_activations.run, b.graph)
    assert [op.type for op in b.graph.ops] == ["CONV_2D", "RESHAPE"] and b.graph.ops[1].outputs[0] is out
    assert b.graph.ops[0].options["fused_activation_function"] == "RELU6"
