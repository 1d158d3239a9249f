"""The full-integer pass follows the TFLite quantization specification on an IR model: per-channel int8
weights on the right axis with zero point 0, int32 bias at input scale x weight scale, fixed output
parameters, shared parameters, QUANTIZE/DEQUANTIZE at the float boundary; ops without an integer kernel
stay float between DEQUANTIZE and QUANTIZE and are named."""
import numpy as np
import pytest

from edgepress.convert.ir import Op, Tensor
from edgepress.quantize.integer import quantize_integer
from edgepress.quantize.select import keep_float_matcher

from qgraphs import UNIT, Builder, calibrated, conv_net, feeds_for


@pytest.fixture(scope="module")
def net():
    model = conv_net()
    return model, calibrated(model, feeds_for(model, 6))


def by_source(model, name) -> Op:
    return next(op for op in model.graph.ops if name in op.sources)


def params(t):
    return float(t.quant.scale[0]), int(t.quant.zero_point[0])


def test_weights_biases_and_activations_follow_the_spec(net):
    model, ranges = net
    q = quantize_integer(model, ranges).model
    for name, axis in (("conv1", 0), ("dw", 3), ("fc", 0)):
        op = by_source(q, name)
        x, w, b = op.inputs
        channels = w.shape[axis]
        assert w.dtype == "int8" and w.quant.axis == axis and w.quant.scale.size == channels, name
        assert np.all(w.quant.zero_point == 0) and w.data.min() >= -127, name
        assert b.dtype == "int32" and np.all(b.quant.zero_point == 0), name
        np.testing.assert_allclose(b.quant.scale, x.quant.scale[0] * w.quant.scale, rtol=1e-6)
        assert x.dtype == "int8" and x.quant.scale.size == 1 and op.outputs[0].dtype == "int8"
    assert params(by_source(q, "sig").outputs[0]) == (1 / 256, -128)
    assert params(by_source(q, "softmax").outputs[0]) == (1 / 256, -128)
    assert params(by_source(q, "tanh").outputs[0]) == (1 / 128, 0)
    for name in ("pool", "flat"):
        op = by_source(q, name)
        assert params(op.inputs[0]) == params(op.outputs[0]), name


def test_concatenation_inputs_share_the_output_parameters(net):
    """Inputs whose producer chooses freely (ADD) take the concat's parameters; fixed ones (LOGISTIC, TANH)
    are requantized by a QUANTIZE, so the kernel never rescales."""
    model, ranges = net
    q = quantize_integer(model, ranges).model
    cat = by_source(q, "cat")
    producers = q.graph.producers()
    for t in cat.inputs:
        assert params(t) == params(cat.outputs[0])
    kinds = [producers[id(t)].type for t in cat.inputs]
    assert kinds == ["QUANTIZE", "QUANTIZE", "ADD"]


def test_float_boundary_and_names(net):
    model, ranges = net
    out = quantize_integer(model, ranges)
    g = out.model.graph
    assert [t.name for t in g.inputs] == ["image"] and g.inputs[0].dtype == "float32"
    assert [t.name for t in g.outputs] == ["softmax:0", "add:0"]
    assert all(t.dtype == "float32" for t in g.outputs)
    assert g.ops[0].type == "QUANTIZE" and g.ops[-1].type == "DEQUANTIZE"
    assert out.model.signatures[0].outputs["softmax:0"] is g.outputs[0]
    assert out.kept_float == []
    # the float model is left untouched
    assert all(t.dtype == "float32" for op in model.graph.ops for t in op.outputs)


@pytest.mark.parametrize("io_type", ["int8", "uint8"])
def test_integer_io(net, io_type):
    model, ranges = net
    g = quantize_integer(model, ranges, io_type=io_type).model.graph
    assert g.inputs[0].dtype == io_type and g.outputs[0].dtype == io_type
    zero = params(g.outputs[0])[1]
    assert zero == (-128 if io_type == "int8" else 0)  # softmax's fixed zero point, shifted for uint8
    first = g.ops[0]
    assert (first.type == "QUANTIZE") == (io_type == "uint8")


def test_int16x8(net):
    model, ranges = net
    q = quantize_integer(model, ranges, activation="int16").model
    conv = by_source(q, "conv1")
    assert conv.inputs[0].dtype == "int16" and conv.inputs[0].quant.zero_point[0] == 0
    assert conv.inputs[1].dtype == "int8" and conv.inputs[2].dtype == "int64"
    assert by_source(q, "add").options["pot_scale_int16"] is False
    assert params(by_source(q, "softmax").outputs[0]) == (1 / 32768, 0)
    g = quantize_integer(model, ranges, activation="int16", io_type="int16").model.graph
    assert g.inputs[0].dtype == g.outputs[0].dtype == "int16" and g.ops[0].type != "QUANTIZE"


def test_op_without_integer_kernel_stays_float_between_dequantize_and_quantize():
    b = Builder(3)
    x = b.input("x", (1, 16))
    h = b.op("FULLY_CONNECTED", [x, b.const((16, 16)), b.const(16)], (1, 16), name="fc1")
    s = b.op("SIN", [h], (1, 16), name="sine")
    y = b.op("FULLY_CONNECTED", [s, b.const((4, 16)), b.const(4)], (1, 4), name="fc2")
    model = b.model([x], [y])
    out = quantize_integer(model, calibrated(model, feeds_for(model, 4)))
    assert [(k.op, k.op_type) for k in out.kept_float] == [("sine", "SIN")]
    assert "no int8 kernel for SIN" in out.kept_float[0].reason
    types = [op.type for op in out.model.graph.ops]
    assert types == ["QUANTIZE", "FULLY_CONNECTED", "DEQUANTIZE", "SIN", "QUANTIZE", "FULLY_CONNECTED",
                     "DEQUANTIZE"]
    sine = by_source(out.model, "sine")
    assert sine.inputs[0].dtype == "float32" and sine.outputs[0].dtype == "float32"


def test_keep_float_by_type_and_by_source_name(net):
    model, ranges = net
    keep = keep_float_matcher(model, ["TANH", "fc"])
    out = quantize_integer(model, ranges, keep=keep)
    assert sorted(k.op for k in out.kept_float) == ["fc", "tanh"]
    assert all(k.reason == "kept float as asked" for k in out.kept_float)
    assert by_source(out.model, "fc").inputs[1].dtype == "float32"
    assert by_source(out.model, "conv1").inputs[1].dtype == "int8"


def test_runtime_weights_keep_conv_float():
    b = Builder(4)
    x, w = b.input("x", (1, 4, 4, 2)), b.input("w", (3, 1, 1, 2))
    y = b.op("CONV_2D", [x, w, b.const(3)], (1, 4, 4, 3), UNIT, name="dynconv")
    model = b.model([x, w], [y])
    out = quantize_integer(model, calibrated(model, feeds_for(model, 2)))
    assert "computed at run time" in out.kept_float[0].reason


@pytest.mark.parametrize("op_type", ["ARG_MAX", "ARG_MIN", "RELU_N1_TO_1"])
def test_int16_ops_litert_lacks_stay_float(op_type):
    """TFLite has no int16 kernel for these: in int16x8 they stay float, and the model runs in litert."""
    from ai_edge_litert.interpreter import Interpreter
    b = Builder(4)
    x = b.input("x", (1, 4, 4, 3))
    h = b.op("CONV_2D", [x, b.const((6, 1, 1, 3)), b.const(6)], (1, 4, 4, 6), UNIT, name="conv")
    if op_type == "RELU_N1_TO_1":
        y = b.op(op_type, [h], (1, 4, 4, 6), name="act")
    else:
        axis = Tensor.constant("axis", np.array([3], np.int32))
        y = b.op(op_type, [h, axis], (1, 4, 4), {"output_type": "INT32"}, name="act", dtype="int32")
    model = b.model([x], [y])
    feeds = feeds_for(model, 4)
    outcome = quantize_integer(model, calibrated(model, feeds), "int16")
    assert [k.op_type for k in outcome.kept_float] == [op_type]
    run = Interpreter(model_content=outcome.model.to_bytes()).get_signature_runner("serving_default")
    got = next(iter(run(x=feeds[0]["x"]).values()))
    expected = model.run(feeds[0])[y.name]
    if op_type == "RELU_N1_TO_1":
        np.testing.assert_allclose(got, expected, atol=0.02)  # int8 weights of the conv
    else:
        assert np.mean(got == expected) >= 0.9  # near-ties may flip under int16 noise
