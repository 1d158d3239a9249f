"""fold_batchnorm: per-channel MUL/ADD/SUB after a conv or fully-connected op fold into its weights and
bias; anything that would change results is left alone."""
import numpy as np
import pytest

from edgepress.convert.passes import fold_batchnorm
from test_pass_graphs import Builder, count, run_pass

CONV = {"padding": "SAME", "stride_h": 1, "stride_w": 1}


def weighted(b, kind, x, bias=True):
    """One weighted op on channels-last x (1, 5, 5, 3) with 4 output channels."""
    bias_t = b.rand((4,), 0.1, "b") if bias else None
    if kind == "CONV_2D":
        return b.op("CONV_2D", [x, b.rand((4, 3, 3, 3)), bias_t], CONV)
    if kind == "DEPTHWISE_CONV_2D":
        two = b.op("CONV_2D", [x, b.rand((2, 1, 1, 3)), None], CONV)
        return b.op("DEPTHWISE_CONV_2D", [two, b.rand((1, 3, 3, 4)), bias_t], {**CONV, "depth_multiplier": 2})
    if kind == "TRANSPOSE_CONV":
        shape = b.const([1, 10, 10, 4], "int32")
        ins = [shape, b.rand((4, 3, 3, 3)), x] + ([bias_t] if bias else [])
        return b.op("TRANSPOSE_CONV", ins, {"padding": "SAME", "stride_h": 2, "stride_w": 2})
    return b.op("FULLY_CONNECTED", [x, b.rand((4, 3)), bias_t], {"keep_num_dims": True})


@pytest.mark.parametrize("kind", ["CONV_2D", "DEPTHWISE_CONV_2D", "TRANSPOSE_CONV", "FULLY_CONNECTED"])
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("shape", [(4,), (1, 1, 1, 4), (1, 1, 4)])
def test_scale_and_shift_fold_into_weights_and_bias(kind, bias, shape):
    b = Builder(1)
    x = b.input("x", (1, 5, 5, 3))
    y = weighted(b, kind, x, bias)
    scale = b.const(b.rng.uniform(0.5, 1.5, 4).reshape(shape), base="bn_scale")
    shift = b.const(b.rng.standard_normal(4).reshape(shape), base="bn_shift")
    out = b.output(b.op("ADD", [b.op("MUL", [y, scale]), shift]), "y")
    ops_before = len(b.graph.ops)
    changed, _ = run_pass(fold_batchnorm.run, b.graph)
    assert changed
    assert len(b.graph.ops) == ops_before - 2 and count(b.graph, "MUL") == count(b.graph, "ADD") == 0
    last = b.graph.ops[-1]
    assert last.type == kind and last.outputs[0] is out
    assert "bn_scale" in last.inputs[1].sources and "bn_shift" in last.inputs[-1].sources


def test_scalar_scale_constant_first_and_sub():
    b = Builder(2)
    x = b.input("x", (1, 5, 5, 3))
    y = b.op("MUL", [b.const(0.5), weighted(b, "CONV_2D", x)])
    b.output(b.op("SUB", [y, b.const(np.arange(4.0))], {"fused_activation_function": "RELU6"}), "y")
    run_pass(fold_batchnorm.run, b.graph)
    assert [op.type for op in b.graph.ops] == ["CONV_2D"]
    assert b.graph.ops[0].options["fused_activation_function"] == "RELU6"


def test_nothing_folds_that_would_change_results():
    b = Builder(3)
    x = b.input("x", (1, 5, 5, 3))
    shared = weighted(b, "CONV_2D", x)
    b.output(b.op("MUL", [shared, b.const(np.arange(4.0))]), "a")
    b.output(b.op("RELU", [shared]), "b")  # the conv output has a second reader
    activated = b.op("CONV_2D", [x, b.rand((4, 1, 1, 3)), b.rand((4,))], {**CONV, "fused_activation_function": "RELU"})
    b.output(b.op("ADD", [activated, b.const(np.arange(4.0))]), "c")  # a shift after ReLU is not a bias
    per_row = weighted(b, "CONV_2D", x)
    b.output(b.op("MUL", [per_row, b.const(np.arange(5.0).reshape(1, 5, 1, 1))]), "d")  # not per channel
    widened = weighted(b, "CONV_2D", x)
    b.output(b.op("ADD", [widened, b.const(np.ones((2, 1, 1, 4)))]), "e")  # broadcasts the output up
    out = b.output(weighted(b, "CONV_2D", x), "f")
    b.output(b.op("MUL", [out, b.const(2.0)]), "g")  # its input is a graph output
    changed, _ = run_pass(fold_batchnorm.run, b.graph)
    assert not changed


def test_folds_across_a_reshape_that_keeps_the_channel_axis():
    """The importer's 1-D conv ends in a squeeze of the unit H axis; the BatchNorm after it still folds."""
    b = Builder(4)
    x = b.input("x", (2, 1, 7, 3))
    squeezed = b.op("RESHAPE", [weighted(b, "CONV_2D", x), b.const([2, 7, 4], "int32")])
    y = b.op("ADD", [b.op("MUL", [squeezed, b.const(np.arange(1.0, 5.0))]), b.const(np.arange(4.0))],
             {"fused_activation_function": "RELU"})
    out = b.output(y, "y")
    run_pass(fold_batchnorm.run, b.graph)
    assert [op.type for op in b.graph.ops] == ["CONV_2D", "RESHAPE"] and b.graph.ops[1].outputs[0] is out
    assert b.graph.ops[0].options["fused_activation_function"] == "RELU"


def test_does_not_fold_across_a_reshape_that_moves_channels():
    b = Builder(5)
    x = b.input("x", (1, 2, 2, 3))
    flat = b.op("RESHAPE", [weighted(b, "CONV_2D", x), b.const([1, 2, 8], "int32")])
    b.output(b.op("MUL", [flat, b.const(np.arange(1.0, 9.0))]), "y")
    changed, _ = run_pass(fold_batchnorm.run, b.graph)
    assert not changed
