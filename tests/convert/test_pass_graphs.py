"""Graphs in the ONNX importer's form for the pass tests, and the structural checks every pass must keep.

The importer keeps NCHW activations and wraps each channels-last-only TFLite op in
TRANSPOSE(0,2,3,1) -> op -> TRANSPOSE(0,3,1,2) with the perm as an int32 constant input; BatchNorm arrives as
MUL and ADD by (1,C,1,1) constants. `Builder` makes such graphs with seeded random weights; output shapes
come from running the reference op on zeros, as the importer does when ONNX cannot tell.
"""
import copy

import numpy as np
import pytest

from edgepress.convert.ir import Graph, Model, Op, Signature, Tensor
from edgepress.convert.passes import validate
from edgepress.convert.reference import evaluate, evaluate_op
from edgepress.errors import EdgepressError

TO_LAST, TO_FIRST = (0, 2, 3, 1), (0, 3, 1, 2)
RTOL = 1e-5


class Builder:
    def __init__(self, seed=0):
        self.graph = Graph()
        self.rng = np.random.default_rng(seed)
        self.count = 0
        self.probes = {}

    def name(self, base):
        self.count += 1
        return f"{base}_{self.count}"

    def input(self, name, shape, dtype="float32"):
        t = Tensor(name, shape, dtype, sources=[name])
        self.graph.inputs.append(t)
        return t

    def const(self, value, dtype="float32", base="const"):
        return Tensor.constant(self.name(base), np.asarray(value, dtype), sources=[base])

    def rand(self, shape, scale=1.0, base="w"):
        return self.const(self.rng.standard_normal(shape) * scale, base=base)

    def op(self, type_, inputs, options=None, outputs=1, dtype=None):
        """Add an op; output shapes are found by running the reference op on zeros for run-time inputs."""
        node = self.name(type_.lower())
        probe = Op(type_, list(inputs), [Tensor(f"{node}_probe{i}", ()) for i in range(outputs)], dict(options or {}))
        stand_ins = [None if t is None else t.data if t.is_constant
                     else self.probes.get(id(t), np.zeros(t.shape, t.dtype)) for t in inputs]
        values = evaluate_op(probe, stand_ins)
        outs = [Tensor(f"{node}:{i}" if outputs > 1 else node, v.shape, dtype or str(v.dtype), sources=[node])
                for i, v in enumerate(np.asarray(v) for v in values)]
        if type_ == "SHAPE" or all(t is None or t.is_constant or id(t) in self.probes for t in inputs):
            self.probes.update((id(t), v) for t, v in zip(outs, values))  # shape arithmetic needs real values
        self.graph.ops.append(Op(type_, list(inputs), outs, dict(options or {}), sources=[node]))
        return outs if outputs > 1 else outs[0]

    def transpose(self, x, perm):
        return self.op("TRANSPOSE", [x, self.const(perm, "int32", "perm")])

    def channels_last(self, type_, x, extra=(), options=None, first=()):
        rank = x.rank
        y = self.op(type_, [*first, self.transpose(x, (0, *range(2, rank), 1)), *extra], options)
        return self.transpose(y, (0, rank - 1, *range(1, rank - 1)))

    # -- layers in the importer's form ------------------------------------------------------------------
    def conv(self, x, cout, k=3, stride=1, bias=True, act="NONE", groups=1):
        cin = x.shape[1]
        w = self.rand((cout, k, k, cin // groups), 1 / np.sqrt(k * k * cin))
        b = self.rand((cout,), 0.1, "b") if bias else None
        opts = {"padding": "SAME", "stride_h": stride, "stride_w": stride, "fused_activation_function": act}
        return self.channels_last("CONV_2D", x, [w, b], opts)

    def depthwise(self, x, k=3, stride=1):
        c = x.shape[1]
        opts = {"padding": "SAME", "stride_h": stride, "stride_w": stride, "depth_multiplier": 1}
        return self.channels_last("DEPTHWISE_CONV_2D", x, [self.rand((1, k, k, c), 1 / k), self.rand((c,), 0.1, "b")],
                                  opts)

    def batchnorm(self, x, shape=None):
        c = x.shape[1]
        shape = shape or (1, c, 1, 1)
        scale = self.const(self.rng.uniform(0.5, 1.5, c).reshape(shape), base="bn_scale")
        shift = self.const(self.rng.standard_normal(c).reshape(shape) * 0.1, base="bn_shift")
        return self.op("ADD", [self.op("MUL", [x, scale]), shift])

    def pool(self, x, kind="MAX_POOL_2D", k=2, stride=2):
        opts = {"padding": "VALID", "stride_h": stride, "stride_w": stride, "filter_height": k, "filter_width": k}
        return self.channels_last(kind, x, [], opts)

    def resize(self, x, factor=2, kind="RESIZE_BILINEAR"):
        size = self.const([x.shape[2] * factor, x.shape[3] * factor], "int32", "size")
        return self.channels_last(kind, x, [size], {"half_pixel_centers": True})

    def output(self, t, name=None):
        if name:
            t.name = name
        self.graph.outputs.append(t)
        return t

    def model(self):
        g = self.graph
        sig = Signature("serving_default", 0, {t.name: t for t in g.inputs}, {t.name: t for t in g.outputs})
        return Model(graphs=[g], signatures=[sig])


def feeds_for(graph, seed=1):
    rng = np.random.default_rng(seed)
    return {t.name: rng.standard_normal(t.shape).astype(t.dtype) for t in graph.inputs}


def count(graph, type_):
    return sum(op.type == type_ for op in graph.ops)


def check_same(before: Graph, after: Graph, feeds: dict, io_perm=None):
    """Outputs of `after` equal those of `before` (rtol 1e-5). io_perm maps an I/O name to the permutation
    its tensor was given (nhwc_io): the feed is permuted in, the output permuted back."""
    io_perm = io_perm or {}
    want = evaluate(before, feeds)
    moved = {k: np.transpose(v, io_perm[k]) if k in io_perm else v for k, v in feeds.items()}
    got = evaluate(after, moved)
    assert set(got) == set(want)
    for name, ref in want.items():
        value = got[name]
        if name in io_perm:
            value = np.transpose(value, np.argsort(io_perm[name]))
        assert value.shape == ref.shape, name
        np.testing.assert_allclose(value, ref, rtol=RTOL, atol=RTOL * max(1.0, float(np.abs(ref).max())), err_msg=name)
    assert validate.problems(after) == []
    assert validate.shape_problems(after, moved) == []


def run_pass(pass_run, graph_or_model, **kwargs):
    """Run one pass on a copy and check it kept the graph well formed and its outputs; returns (changed, copy)."""
    before = copy.deepcopy(graph_or_model)
    changed = pass_run(graph_or_model, **kwargs)
    g_before = before.graph if isinstance(before, Model) else before
    g_after = graph_or_model.graph if isinstance(graph_or_model, Model) else graph_or_model
    check_same(g_before, g_after, feeds_for(g_before))
    return changed, before


# -- the checks themselves ------------------------------------------------------------------------------

def small_graph():
    b = Builder()
    x = b.input("x", (1, 3, 4, 4))
    b.output(b.op("RELU", [b.conv(x, 4)]), "y")
    return b.graph


def test_builder_graph_is_well_formed_and_runs():
    g = small_graph()
    assert validate.problems(g) == []
    assert validate.shape_problems(g, feeds_for(g)) == []
    assert evaluate(g, feeds_for(g))["y"].shape == (1, 4, 4, 4)
    assert count(g, "TRANSPOSE") == 2


def test_validate_finds_use_before_write():
    g = small_graph()
    g.ops = g.ops[::-1]
    assert any("before it is written" in p for p in validate.problems(g))
    with pytest.raises(EdgepressError, match="malformed after shuffle"):
        validate.check(g, after="shuffle")


def test_validate_finds_unwritten_output_duplicate_names_and_bad_transpose_shape():
    g = small_graph()
    g.outputs.append(Tensor("ghost", (1,)))
    g.ops[0].outputs[0].shape = (9, 9, 9, 9)
    g.ops[-1].outputs[0].name = g.ops[0].outputs[0].name
    found = "\n".join(validate.problems(g))
    assert "'ghost' is never written" in found
    assert "two tensors are named" in found
    assert "declares (9, 9, 9, 9)" in found


def test_shape_problems_finds_a_wrong_declared_shape():
    g = small_graph()
    relu = next(op for op in g.ops if op.type == "RELU")
    relu.outputs[0].shape = (1, 4, 4, 5)
    assert any("'y'" in p for p in validate.shape_problems(g, feeds_for(g)))
