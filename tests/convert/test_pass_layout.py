"""The layout pass on graphs in the importer's form: transposes cancel except at the I/O boundary (none with
nhwc_io), and the reference evaluator gives the same outputs before and after (rtol 1e-5)."""
import copy

import numpy as np
import pytest

from edgepress.convert.passes import layout
from test_pass_graphs import TO_LAST, Builder, check_same, count, feeds_for, run_pass


def chain(seed=0):
    """conv -> relu -> conv -> add -> concat -> resize -> conv, NCHW input and output."""
    b = Builder(seed)
    x = b.input("x", (1, 3, 8, 8))
    a = b.op("RELU", [b.conv(x, 8)])
    s = b.op("ADD", [a, b.conv(a, 8)])
    cat = b.op("CONCATENATION", [s, a], {"axis": 1})
    b.output(b.conv(b.resize(cat), 4), "y")
    return b


def test_chain_keeps_only_the_two_boundary_transposes():
    g = chain().graph
    assert count(g, "TRANSPOSE") == 8
    changed, _ = run_pass(layout.run, g)
    assert changed
    assert count(g, "TRANSPOSE") == 2
    assert g.ops[0].type == "TRANSPOSE" and g.ops[0].inputs[0] is g.inputs[0]
    assert g.ops[-1].type == "TRANSPOSE" and g.ops[-1].outputs[0] is g.outputs[0]
    assert g.outputs[0].name == "y" and g.outputs[0].shape == (1, 4, 16, 16)
    concat = next(op for op in g.ops if op.type == "CONCATENATION")
    assert concat.options["axis"] == 3


def test_chain_with_nhwc_io_has_no_transpose_and_keeps_io_names():
    model = chain().model()
    x, y = model.graph.inputs[0], model.graph.outputs[0]
    before = copy.deepcopy(model.graph)
    assert layout.run(model, nhwc_io=True)
    g = model.graph
    assert count(g, "TRANSPOSE") == 0
    assert g.inputs[0] is x and x.name == "x" and x.shape == (1, 8, 8, 3)
    assert g.outputs[0] is y and y.name == "y" and y.shape == (1, 16, 16, 4)
    assert model.signatures[0].inputs == {"x": x} and model.signatures[0].outputs == {"y": y}
    check_same(before, g, feeds_for(before), {"x": TO_LAST, "y": TO_LAST})


def test_second_run_changes_nothing():
    g = chain().graph
    layout.run(g)
    assert not layout.run(g)


def test_batchnorm_constants_are_permuted_to_channels_last():
    for shape in [None, (4, 1, 1)]:
        b = Builder(2)
        x = b.input("x", (2, 3, 5, 6))
        y = b.conv(b.op("RELU", [b.batchnorm(b.conv(x, 4), shape)]), 2)
        b.output(y, "y")
        run_pass(layout.run, b.graph)
        assert count(b.graph, "TRANSPOSE") == 2
        mul = next(op for op in b.graph.ops if op.type == "MUL")
        assert mul.inputs[1].shape[-1] == 4 and np.prod(mul.inputs[1].shape) == 4


def test_global_average_pool_then_fully_connected_needs_no_transpose_after_the_input():
    b = Builder(3)
    x = b.input("x", (2, 3, 6, 6))
    pooled = b.op("MEAN", [b.op("RELU", [b.conv(x, 8)]), b.const([2, 3], "int32", "axes")], {"keep_dims": False})
    y = b.op("FULLY_CONNECTED", [pooled, b.rand((5, 8)), b.rand((5,))])
    b.output(y, "logits")
    run_pass(layout.run, b.graph)
    assert count(b.graph, "TRANSPOSE") == 1
    mean = next(op for op in b.graph.ops if op.type == "MEAN")
    assert sorted(mean.inputs[1].data.tolist()) == [1, 2]


def test_keep_dims_mean_then_reshape_turns_the_size_one_transpose_into_a_reshape():
    b = Builder(4)
    x = b.input("x", (1, 3, 6, 6))
    pooled = b.op("MEAN", [b.conv(x, 8), b.const([2, 3], "int32", "axes")], {"keep_dims": True})
    flat = b.op("RESHAPE", [pooled, b.const([1, 8], "int32", "shape")])
    b.output(b.op("FULLY_CONNECTED", [flat, b.rand((5, 8)), b.rand((5,))]), "logits")
    run_pass(layout.run, b.graph)
    assert count(b.graph, "TRANSPOSE") == 1


def test_squeeze_excite_block():
    """x * sigmoid(conv(relu(conv(mean(x))))) with the (N,C,1,1) gate broadcast over a channels-last x."""
    b = Builder(5)
    x = b.input("x", (1, 4, 6, 6))
    f = b.op("RELU", [b.conv(x, 8)])
    m = b.op("MEAN", [f, b.const([2, 3], "int32", "axes")], {"keep_dims": True})
    gate = b.op("LOGISTIC", [b.conv(b.op("RELU", [b.conv(m, 2, k=1)]), 8, k=1)])
    b.output(b.conv(b.op("MUL", [f, gate]), 4), "y")
    run_pass(layout.run, b.graph)
    assert count(b.graph, "TRANSPOSE") == 2


def test_residual_add_with_the_graph_input():
    """The input feeds both a conv and an ADD: one transpose of the input serves both."""
    b = Builder(6)
    x = b.input("x", (1, 4, 5, 5))
    y = b.op("ADD", [x, b.conv(x, 4)])
    b.output(b.conv(y, 4), "y")
    run_pass(layout.run, b.graph)
    assert count(b.graph, "TRANSPOSE") == 2


def test_axis_ops_between_convs_are_remapped():
    b = Builder(7)
    x = b.input("x", (1, 4, 8, 8))
    h = b.conv(x, 6)
    h = b.op("PAD", [h, b.const([[0, 0], [0, 0], [1, 2], [0, 1]], "int32", "pads")])
    h = b.op("MIRROR_PAD", [h, b.const([[0, 0], [0, 0], [1, 1], [2, 0]], "int32", "pads")], {"mode": "REFLECT"})
    h = b.op("SLICE", [h, b.const([0, 1, 1, 0], "int32", "begin"), b.const([1, 4, 8, 9], "int32", "size")])
    h = b.op("STRIDED_SLICE", [h, b.const([0, 0, 1, 0], "int32", "begin"), b.const([1, 4, 7, 9], "int32", "end"),
                               b.const([1, 1, 2, 1], "int32", "strides")], {"begin_mask": 0b0001, "end_mask": 0b1000})
    parts = b.op("SPLIT", [b.const(1, "int32", "axis"), h], {"num_splits": 2}, outputs=2)
    v = b.op("SPLIT_V", [parts[0], b.const([1, 1], "int32", "sizes"), b.const(-3, "int32", "axis")],
             {"num_splits": 2}, outputs=2)
    h = b.op("CONCATENATION", [parts[1], v[1], v[0]], {"axis": -3})
    h = b.op("REDUCE_MAX", [h, b.const([3], "int32", "axes")], {"keep_dims": True})
    h = b.op("GATHER", [h, b.const([3, 0, 1], "int32", "idx")], {"axis": 1})
    b.output(b.conv(h, 2, k=1), "y")
    run_pass(layout.run, b.graph)
    assert count(b.graph, "TRANSPOSE") == 2


def test_softmax_over_channels_cancels_into_its_wrapping():
    b = Builder(8)
    x = b.input("x", (1, 3, 4, 5))
    s = b.channels_last("SOFTMAX", b.conv(x, 6), [], {"beta": 1.0})
    b.output(b.conv(s, 2), "y")
    run_pass(layout.run, b.graph)
    assert count(b.graph, "TRANSPOSE") == 2


def test_softmax_over_width_keeps_what_it_needs():
    b = Builder(9)
    x = b.input("x", (1, 3, 4, 5))
    s = b.op("SOFTMAX", [b.op("RELU", [b.conv(x, 6)])], {"beta": 1.0})
    b.output(b.conv(s, 2), "y")
    run_pass(layout.run, b.graph)
    assert count(b.graph, "TRANSPOSE") <= 4


def test_transpose_that_no_layout_can_absorb_stays():
    """An attention-style transpose between reshapes: nothing to cancel against."""
    b = Builder(10)
    x = b.input("x", (2, 6, 8))
    h = b.op("RESHAPE", [x, b.const([2, 6, 2, 4], "int32", "shape")])
    h = b.transpose(h, (0, 2, 1, 3))
    b.output(b.op("RESHAPE", [h, b.const([2, 2, 24], "int32", "shape")]), "y")
    changed, _ = run_pass(layout.run, b.graph)
    assert not changed
    assert count(b.graph, "TRANSPOSE") == 1


def test_transpose_moving_only_unit_dims_becomes_reshape():
    b = Builder(11)
    x = b.input("x", (3, 1, 5, 1))
    b.output(b.op("RELU", [b.transpose(x, (1, 0, 3, 2))]), "y")
    assert run_pass(layout.run, b.graph)[0]
    assert count(b.graph, "TRANSPOSE") == 0 and count(b.graph, "RESHAPE") == 1


def test_transpose_writing_a_graph_output_from_a_graph_input_is_kept_as_a_copy():
    b = Builder(12)
    x = b.input("x", (1, 1, 4, 4))
    b.output(b.transpose(b.transpose(x, TO_LAST), (0, 3, 1, 2)), "y")
    run_pass(layout.run, b.graph)
    assert [op.type for op in b.graph.ops] == ["RESHAPE"]
    assert b.graph.outputs[0].name == "y" and b.graph.inputs[0].name == "x"


def test_nhwc_io_leaves_inputs_that_gain_nothing():
    b = Builder(13)
    x = b.input("x", (2, 3, 4, 5))
    b.output(b.op("RESHAPE", [b.op("RELU", [x]), b.const([2, 60], "int32", "shape")]), "y")
    model = b.model()
    assert not layout.run(model, nhwc_io=True)
    assert x.shape == (2, 3, 4, 5)


def test_nhwc_io_converts_through_preprocessing_and_to_several_outputs():
    b = Builder(14)
    x = b.input("x", (1, 3, 8, 8))
    norm = b.op("MUL", [b.op("SUB", [x, b.const(np.full((1, 3, 1, 1), 0.5))]), b.const(np.full((1, 3, 1, 1), 2.0))])
    f = b.op("RELU", [b.conv(norm, 4)])
    b.output(f, "features")
    b.output(b.op("LOGISTIC", [b.conv(f, 1, k=1)]), "score")
    model = b.model()
    before = copy.deepcopy(model.graph)
    layout.run(model, nhwc_io=True)
    assert count(model.graph, "TRANSPOSE") == 0
    check_same(before, model.graph, feeds_for(before), {"x": TO_LAST, "features": TO_LAST, "score": TO_LAST})


def test_three_and_five_dimensional_channels_first_regions():
    b = Builder(15)
    x = b.input("x", (2, 4, 7))
    h = b.op("MUL", [b.transpose(b.op("RELU", [b.transpose(x, (0, 2, 1))]), (0, 2, 1)), b.const(np.ones((4, 1)))])
    b.output(b.transpose(b.op("TANH", [b.transpose(h, (0, 2, 1))]), (0, 2, 1)), "y")
    v = b.input("v", (1, 2, 3, 4, 5))
    w = b.op("ABS", [b.transpose(b.op("NEG", [b.transpose(v, (0, 2, 3, 4, 1))]), (0, 4, 1, 2, 3))])
    b.output(w, "w")
    run_pass(layout.run, b.graph)
    assert count(b.graph, "TRANSPOSE") == 0


def conv1d(b, x, cout):
    """The importer's 1-D convolution: a unit H axis around a wrapped 2-D one."""
    lifted = b.op("EXPAND_DIMS", [x, b.const(2, "int32", "axis")])
    return b.op("SQUEEZE", [b.conv(lifted, cout)], {"squeeze_dims": [2]})


def test_one_dimensional_convolutions_need_no_transpose_inside():
    b = Builder(16)
    x = b.input("x", (2, 3, 10))
    h = b.op("RELU", [conv1d(b, x, 6)])
    h = b.op("ADD", [h, b.const(np.linspace(-1, 1, 6).reshape(6, 1))])
    b.output(conv1d(b, h, 4), "y")
    run_pass(layout.run, b.graph)
    assert count(b.graph, "TRANSPOSE") == 2


def test_sequence_head_squeezes_height_and_transposes_to_time_major():
    """A text recognizer's head: (N,C,1,W) -> squeeze -> (N,W,C) -> FULLY_CONNECTED per time step."""
    b = Builder(17)
    x = b.input("x", (1, 3, 1, 12))
    f = b.op("RELU", [b.conv(x, 8)])
    seq = b.transpose(b.op("SQUEEZE", [f], {"squeeze_dims": [2]}), (0, 2, 1))
    logits = b.op("FULLY_CONNECTED", [seq, b.rand((5, 8)), b.rand((5,))], {"keep_num_dims": True})
    b.output(b.op("SOFTMAX", [logits], {"beta": 1.0}), "probs")
    run_pass(layout.run, b.graph)
    assert count(b.graph, "TRANSPOSE") == 1  # the NCHW input's


def test_flatten_of_a_channels_last_map_keeps_channels_first_order():
    """RESHAPE (N,C,H,W) -> (N,C*H*W) is not a unit-dim reshape: the map goes back to NCHW before it."""
    b = Builder(18)
    x = b.input("x", (1, 3, 4, 4))
    flat = b.op("RESHAPE", [b.op("RELU", [b.conv(x, 2)]), b.const([1, 32], "int32", "shape")])
    b.output(b.op("FULLY_CONNECTED", [flat, b.rand((3, 32)), b.rand((3,))]), "y")
    run_pass(layout.run, b.graph)
    assert count(b.graph, "TRANSPOSE") == 2


# -- random graphs --------------------------------------------------------------------------------------

def random_graph(seed, depth=14):
    """A random NCHW network of wrapped channels-last ops and layout-agnostic ops, as the importer emits."""
    b = Builder(seed)
    rng = np.random.default_rng(seed)
    x = b.input("x", (1, 4, 8, 8))
    pool = [b.conv(x, 4)]

    def pick(shape=None):
        fits = [t for t in pool if shape is None or t.shape == shape]
        return fits[rng.integers(len(fits))] if fits else None

    def step():
        t = pick()
        n, c, h, w = t.shape
        kind = rng.integers(12)
        if kind == 0:
            return b.conv(t, int(rng.integers(2, 7)), k=int(rng.choice([1, 3])))
        if kind == 1:
            return b.depthwise(t)
        if kind == 2 and h >= 4:
            return b.pool(t, str(rng.choice(["MAX_POOL_2D", "AVERAGE_POOL_2D"])))
        if kind == 3 and h <= 8:
            return b.resize(t, kind=str(rng.choice(["RESIZE_BILINEAR", "RESIZE_NEAREST_NEIGHBOR"])))
        if kind == 4:
            return b.op(str(rng.choice(["RELU", "LOGISTIC", "HARD_SWISH", "TANH", "ABS"])), [t])
        if kind == 5:
            return b.batchnorm(t, [None, (c, 1, 1)][rng.integers(2)])
        if kind == 6:
            other = pick(t.shape)
            return b.op(str(rng.choice(["ADD", "MUL", "MAXIMUM", "SUB"])), [t, other])
        if kind == 7:
            other = [u for u in pool if u.shape[2:] == t.shape[2:]]
            return b.op("CONCATENATION", [t, other[rng.integers(len(other))]], {"axis": 1})
        if kind == 8 and c >= 2:
            return b.op("SPLIT_V", [t, b.const([1, c - 1], "int32"), b.const(1, "int32")], {"num_splits": 2},
                        outputs=2)[rng.integers(2)]
        if kind == 9:
            m = b.op("MEAN", [t, b.const([2, 3], "int32")], {"keep_dims": True})
            return b.op("MUL", [t, b.op("LOGISTIC", [m])])
        if kind == 10:
            return b.op("PAD", [t, b.const([[0, 0], [0, 1], [1, 0], [2, 1]], "int32")])
        if kind == 11:
            return b.channels_last("SOFTMAX", t, [], {"beta": 1.0})
        return b.op("RELU6", [t])

    for _ in range(depth):
        pool.append(step())
    b.output(pool[-1], "y")
    b.output(b.op("MEAN", [pick(), b.const([2, 3], "int32")], {"keep_dims": False}), "pooled")
    return b


@pytest.mark.parametrize("seed", range(12))
def test_random_graph_keeps_outputs_and_only_boundary_transposes(seed):
    g = random_graph(seed).graph
    run_pass(layout.run, g)
    assert count(g, "TRANSPOSE") <= 2  # the input's and the NCHW output's


@pytest.mark.parametrize("seed", range(12))
def test_random_graph_with_nhwc_io_has_no_transpose(seed):
    model = random_graph(seed).model()
    before = copy.deepcopy(model.graph)
    layout.run(model, nhwc_io=True)
    assert count(model.graph, "TRANSPOSE") == 0
    check_same(before, model.graph, feeds_for(before), {"x": TO_LAST, "y": TO_LAST})


def test_batch_matmul_absorbs_a_swap_of_its_last_two_axes():
    """Attention's q @ k^T: the transpose of k becomes BATCH_MATMUL's adj_y."""
    b = Builder(19)
    q, k = b.input("q", (2, 4, 5, 3)), b.input("k", (2, 4, 6, 3))
    b.output(b.op("BATCH_MATMUL", [q, b.transpose(k, (0, 1, 3, 2))]), "scores")
    run_pass(layout.run, b.graph)
    assert [op.type for op in b.graph.ops] == ["BATCH_MATMUL"] and b.graph.ops[0].options["adj_y"]


def test_shape_of_a_permuted_tensor_is_reordered_not_transposed():
    """Dynamic-size models compute resize sizes from SHAPE: it reads the channels-last tensor directly."""
    b = Builder(20)
    x = b.input("x", (1, 3, 6, 5))
    r = b.op("RELU", [b.conv(x, 4)])
    shape = b.op("SHAPE", [r], {"out_type": "INT32"}, dtype="int32")
    hw = b.op("STRIDED_SLICE", [shape, b.const([2], "int32"), b.const([4], "int32"), b.const([1], "int32")],
              {"begin_mask": 0, "end_mask": 0}, dtype="int32")
    size = b.op("MUL", [hw, b.const([2, 3], "int32")], dtype="int32")
    b.output(b.conv(b.channels_last("RESIZE_NEAREST_NEIGHBOR", r, [size]), 2), "y")
    run_pass(layout.run, b.graph)
    assert count(b.graph, "TRANSPOSE") == 2 and count(b.graph, "GATHER") == 1
