"""optimize(): the whole pipeline on importer-form networks. Structure (what TFLite would run) and values
(reference evaluator, rtol 1e-5) are checked, and every pass is checked to keep the graph well formed."""
import copy

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
