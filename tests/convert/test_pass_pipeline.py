"""optimize(): the whole pipeline on importer-form networks. Structure (what TFLite would run) and values
(reference evaluator, rtol 1e-5) are checked, and every pass is checked to keep the graph well formed."""
import copy

import numpy as np
import pytest

from edgepress.convert.ir import Model
from edgepress.convert.passes import PIPELINE, optimize, validate
from test_pass_graphs import TO_LAST, Builder, check_same, count, feeds_for


def residual_net(seed=0):
    """stem conv-BN-ReLU, max pool, two residual blocks (one with a projection), a ReLU6 as Clip
    (MAXIMUM/MINIMUM), a MobileNet-style depthwise + hard-swish + squeeze-excite block, global average pool
    and a classifier; a feature map is a second output."""
    b = Builder(seed)
    x = b.input("image", (1, 3, 16, 16))
    h = b.op("RELU", [b.batchnorm(b.conv(x, 8, bias=False))])
    h = b.pool(h)
    for width, stride in ((8, 1), (16, 2)):
        y = b.op("RELU", [b.batchnorm(b.conv(h, width, stride=stride, bias=False))])
        y = b.batchnorm(b.conv(y, width, bias=False))
        skip = h if stride == 1 else b.batchnorm(b.conv(h, width, k=1, stride=stride, bias=False), (width, 1, 1))
        h = b.op("RELU", [b.op("ADD", [y, skip])])
    h = b.op("MINIMUM", [b.op("MAXIMUM", [b.batchnorm(b.conv(h, 16, k=1)), b.const(0.0)]), b.const(6.0)])
    d = b.op("HARD_SWISH", [b.batchnorm(b.depthwise(h))])
    gate = b.op("MEAN", [d, b.const([2, 3], "int32")], {"keep_dims": True})
    gate = b.op("LOGISTIC", [b.conv(b.op("RELU", [b.conv(gate, 4, k=1)]), 16, k=1)])
    features = b.output(b.op("MUL", [d, gate]), "features")
    pooled = b.op("MEAN", [features, b.const([2, 3], "int32")], {"keep_dims": False})
    b.output(b.op("FULLY_CONNECTED", [pooled, b.rand((10, 16)), b.rand((10,))]), "logits")
    return b.model()


def test_optimize_folds_fuses_and_solves_layout():
    model = residual_net()
    before = copy.deepcopy(model.graph)
    assert optimize(model) is model
    g = model.graph
    check_same(before, g, feeds_for(before))
    kinds = {op.type for op in g.ops}
    assert count(g, "TRANSPOSE") == 2  # the image's and the NCHW feature map's
    assert not kinds & {"RELU", "RELU6", "MAXIMUM", "MINIMUM"}
    assert count(g, "ADD") == 2 and count(g, "MUL") == 1  # the residual adds and the squeeze-excite gate
    convs = [op for op in g.ops if op.type in ("CONV_2D", "DEPTHWISE_CONV_2D")]
    assert len(convs) == count(before, "CONV_2D") + count(before, "DEPTHWISE_CONV_2D")
    assert [op.options["fused_activation_function"] for op in convs[:3]] == ["RELU", "RELU", "NONE"]
    stem_sources = {s.split("_")[0] for s in convs[0].sources}
    assert {"conv", "mul", "add", "relu"} <= stem_sources  # the conv, the BatchNorm's MUL and ADD, the ReLU


def test_optimize_with_nhwc_io_leaves_no_transpose():
    model = residual_net(1)
    before = copy.deepcopy(model.graph)
    optimize(model, nhwc_io=True)
    assert count(model.graph, "TRANSPOSE") == 0
    assert model.graph.inputs[0].shape == (1, 16, 16, 3) and model.graph.outputs[0].shape == (1, 4, 4, 16)
    assert model.graph.outputs[1].shape == (1, 10)
    check_same(before, model.graph, feeds_for(before), {"image": TO_LAST, "features": TO_LAST})


def test_every_pass_keeps_the_graph_well_formed():
    model = residual_net(2)
    feeds = feeds_for(model.graph)
    for _ in range(3):
        for step in PIPELINE:
            step(model)
            validate.check(model, after=step.__module__)
            assert validate.shape_problems(model.graph, feeds) == [], step.__module__


def test_optimize_reaches_a_fixpoint():
    model = residual_net(3)
    optimize(model)
    assert not any(step(model) for step in PIPELINE)


def test_every_graph_is_optimized_and_only_signature_graphs_change_their_io():
    main, sub = residual_net(4).graph, residual_net(5).graph
    model = Model(graphs=[main, sub], signatures=residual_net(4).signatures)
    model.signatures[0].inputs = {"image": main.inputs[0]}
    before = copy.deepcopy(sub)
    optimize(model, nhwc_io=True)
    assert count(main, "TRANSPOSE") == 0 and main.inputs[0].shape == (1, 16, 16, 3)
    assert count(sub, "TRANSPOSE") == 2 and sub.inputs[0].shape == (1, 3, 16, 16)
    check_same(before, sub, feeds_for(before))


def mixed_graph(seed, depth=20):
    """A random mix of 4-D image ops and 3-D sequence ops joined by squeezes, expands, explicit
    transposes, shape arithmetic and Clip-style clamps: layouts meet that no single rule covers."""
    b = Builder(seed)
    rng = np.random.default_rng(seed + 1000)
    images = [b.conv(b.input("x", (2, 4, 6, 6)), 4)]
    sequences = [b.input("v", (2, 4, 6))]

    def any_of(pool):
        return pool[rng.integers(len(pool))]

    def image_step(t):
        n, c, h, w = t.shape
        return [
            lambda: b.conv(t, int(rng.integers(2, 6))),
            lambda: b.transpose(t, (0, 1, 3, 2)),
            lambda: b.op("EXPAND_DIMS", [any_of(sequences), b.const(2, "int32")]),
            lambda: b.batchnorm(t, (c, 1, 1)),
            lambda: b.op("MINIMUM", [b.op("MAXIMUM", [t, b.const(0.0)]), b.const(6.0)]),
            lambda: b.op("ADD", [t, any_of([u for u in images if u.shape == t.shape])]),
            lambda: b.op("SLICE", [t, b.const([0, 0, 1, 0], "int32"), b.const([-1, -1, h - 2, -1], "int32")])
            if h >= 3 else b.op("ABS", [t]),
            lambda: b.pool(t, k=2, stride=1) if h >= 2 else b.op("HARD_SWISH", [t]),
            lambda: b.channels_last("SOFTMAX", t, [], {"beta": 1.0}),
            lambda: b.op("RESHAPE", [b.op("RELU", [t]), b.op("SHAPE", [t], {"out_type": "INT32"}, dtype="int32")]),
            lambda: b.depthwise(t),
        ]

    def sequence_step(s):
        return [
            lambda: b.op("SQUEEZE", [b.op("MEAN", [any_of(images), b.const([2], "int32")], {"keep_dims": True})],
                         {"squeeze_dims": [2]}),
            lambda: b.transpose(b.op("TANH", [b.transpose(s, (0, 2, 1))]), (0, 2, 1)),
            lambda: b.op("SOFTMAX", [s], {"beta": 1.0}),
            lambda: b.op("FULLY_CONNECTED", [s, b.rand((3, s.shape[-1])), b.rand((3,))], {"keep_num_dims": True}),
        ]

    for _ in range(depth):
        if rng.random() < 0.7:
            steps = image_step(any_of(images))
            t = steps[rng.integers(len(steps))]()
            (images if t.rank == 4 else sequences).append(t)
        else:
            steps = sequence_step(any_of(sequences))
            sequences.append(steps[rng.integers(len(steps))]())
    b.output(images[-1], "y")
    b.output(sequences[-1], "z")
    b.output(b.op("REDUCE_MAX", [images[len(images) // 2], b.const([1], "int32")], {"keep_dims": False}), "w")
    return b.model()


@pytest.mark.parametrize("seed", range(16))
def test_mixed_random_graph_keeps_outputs_and_never_adds_transposes(seed):
    model = mixed_graph(seed)
    before = copy.deepcopy(model.graph)
    optimize(model)
    check_same(before, model.graph, feeds_for(before))
    assert count(model.graph, "TRANSPOSE") <= count(before, "TRANSPOSE")
