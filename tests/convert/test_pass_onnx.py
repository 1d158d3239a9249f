"""The passes behind the real ONNX importer: ONNX models built here are imported, optimized, and run with
the reference evaluator and ai-edge-litert; outputs must match onnxruntime (max abs error <= 1e-4 *
max(1, max |ref|)) and the graph must keep only the transposes an NCHW interface needs (none with
nhwc_io)."""
import numpy as np
import pytest
from onnx import helper

from edgepress.convert.onnx.importer import import_onnx
from edgepress.convert.passes import optimize, validate
from edgepress.convert.reference import evaluate
from onnx_build import In, graph_model
from onnx_harness import assert_close, litert_run, onnxruntime_run
from test_pass_graphs import count


def weights(seed):
    rng = np.random.default_rng(seed)
    return lambda *shape: (rng.standard_normal(shape) * 0.3).astype(np.float32)


def image_model():
    """Conv-BN-Relu, residual add, concat, bilinear upsample, Clip(0,6), conv, global average pool ->
    Flatten -> Gemm, and a channel softmax."""
    c = weights(0)
    node = helper.make_node
    nodes = [
        node("Conv", ["x", "w1", "b1"], ["c1"], pads=[1, 1, 1, 1]),
        node("BatchNormalization", ["c1", "g", "be", "m", "v"], ["bn"]),
        node("Relu", ["bn"], ["r1"]),
        node("Conv", ["r1", "w2", "b2"], ["c2"], pads=[1, 1, 1, 1], group=8),
        node("Add", ["c2", "r1"], ["s"]),
        node("Concat", ["s", "r1"], ["cat"], axis=1),
        node("Resize", ["cat", "", "scales"], ["up"], mode="linear"),
        node("Clip", ["up", "lo", "hi"], ["clip"]),
        node("Conv", ["clip", "w3", "b3"], ["y"], pads=[1, 1, 1, 1]),
        node("GlobalAveragePool", ["y"], ["gap"]),
        node("Flatten", ["gap"], ["flat"]),
        node("Gemm", ["flat", "wf", "bf"], ["logits"], transB=1),
        node("Softmax", ["y"], ["probs"], axis=1),
    ]
    consts = dict(w1=c(8, 3, 3, 3), b1=c(8), g=np.abs(c(8)) + 0.5, be=c(8), m=c(8), v=np.abs(c(8)) + 0.5,
                  w2=c(8, 1, 3, 3), b2=c(8), scales=np.array([1, 1, 2, 2], np.float32),
                  lo=np.array(0, np.float32), hi=np.array(6, np.float32), w3=c(4, 16, 3, 3), b3=c(4),
                  wf=c(5, 4), bf=c(5))
    return graph_model(nodes, {"x": In((1, 3, 8, 8))}, consts, ["y", "logits", "probs"], 13)


def sequence_model():
    """1-D conv stack (Conv1d, BN, Relu, MaxPool1d) and a (N, W, C) head: Transpose -> MatMul."""
    c = weights(1)
    node = helper.make_node
    nodes = [
        node("Conv", ["x", "w1", "b1"], ["c1"], pads=[1, 1]),
        node("BatchNormalization", ["c1", "g", "be", "m", "v"], ["bn"]),
        node("Relu", ["bn"], ["r1"]),
        node("MaxPool", ["r1"], ["p1"], kernel_shape=[2], strides=[2]),
        node("Conv", ["p1", "w2", "b2"], ["c2"], pads=[1, 1]),
        node("Transpose", ["c2"], ["seq"], perm=[0, 2, 1]),
        node("MatMul", ["seq", "wo"], ["y"]),
    ]
    consts = dict(w1=c(6, 4, 3), b1=c(6), g=np.abs(c(6)) + 0.5, be=c(6), m=c(6), v=np.abs(c(6)) + 0.5,
                  w2=c(5, 6, 3), b2=c(5), wo=c(5, 7))
    return graph_model(nodes, {"x": In((2, 4, 12))}, consts, ["y"], 13)


def check(model, nhwc_io):
    rng = np.random.default_rng(2)
    feeds = {i.name: rng.standard_normal([d.dim_value for d in i.type.tensor_type.shape.dim]).astype(np.float32)
             for i in model.graph.input}
    expected = onnxruntime_run(model, feeds)
    ir = import_onnx(model)
    optimize(ir, nhwc_io=nhwc_io)
    validate.check(ir)
    moved = {t.name: np.moveaxis(feeds[t.name], 1, -1) if t.shape != feeds[t.name].shape else feeds[t.name]
             for t in ir.graph.inputs}
    for engine, got in (("reference evaluator", evaluate(ir.graph, moved)),
                        ("ai-edge-litert", litert_run(ir.to_bytes(), moved))):
        back = {t.name: np.moveaxis(got[t.name], -1, 1) if t.shape != expected[t.name].shape else got[t.name]
                for t in ir.graph.outputs}
        assert_close(back, expected, f"optimized, {engine} (nhwc_io={nhwc_io})")
    return ir.graph


@pytest.mark.parametrize("nhwc_io", [False, True])
def test_image_model(nhwc_io):
    g = check(image_model(), nhwc_io)
    assert count(g, "TRANSPOSE") == (0 if nhwc_io else 3)  # input, y, probs
    assert count(g, "MUL") == 0 and count(g, "RELU") == 0  # BatchNorm folded, ReLU fused
    if nhwc_io:
        assert g.inputs[0].shape == (1, 8, 8, 3) and [t.shape for t in g.outputs] == [(1, 16, 16, 4), (1, 5),
                                                                                       (1, 16, 16, 4)]


@pytest.mark.parametrize("nhwc_io", [False, True])
def test_sequence_model(nhwc_io):
    g = check(sequence_model(), nhwc_io)
    assert count(g, "TRANSPOSE") == (0 if nhwc_io else 1)  # the (N, C, W) input's
    assert count(g, "MUL") == count(g, "ADD") == count(g, "RELU") == 0
