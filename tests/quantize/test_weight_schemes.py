"""float16 and dynamic-range passes on IR models: which constants change, to what, and what stays."""
import numpy as np

from edgepress.convert.ir import Tensor
from edgepress.quantize.dynamic import MIN_ELEMENTS, quantize_dynamic
from edgepress.quantize.float16 import quantize_float16

from qgraphs import UNIT, Builder, conv_net


def test_float16_weights_behind_dequantize_keep_names():
    model = conv_net()
    q, converted = quantize_float16(model)
    g = q.graph
    dequant = [op for op in g.ops if op.type == "DEQUANTIZE"]
    assert len(dequant) == len(converted) == 3  # conv, depthwise and FC weights; the biases are tiny
    for op in dequant:
        half, out = op.inputs[0], op.outputs[0]
        assert half.dtype == "float16" and half.is_constant and out.dtype == "float32" and not out.is_constant
        original = next(t for t in model.graph.tensors() if t.name == out.name)
        np.testing.assert_array_equal(half.data, original.data.astype(np.float16))
    # every op still reads the same names; small constants (the ADD's 8 values, the shape) stay as they were
    assert [[t.name for t in op.inputs] for op in model.graph.ops] == \
        [[t.name for t in op.inputs] for op in g.ops if op.type != "DEQUANTIZE"]
    add = next(op for op in g.ops if op.sources == ["add"])
    assert add.inputs[1].is_constant and add.inputs[1].dtype == "float32"


def test_float16_leaves_out_of_range_constants():
    b = Builder(0)
    x = b.input("x", (1, 64))
    mask = Tensor.constant("mask", np.full((1, 64), -1e9, np.float32))
    y = b.op("ADD", [x, mask], (1, 64), name="masked")
    q, converted = quantize_float16(b.model([x], [y]))
    assert converted == [] and [op.type for op in q.graph.ops] == ["ADD"]


def test_dynamic_range_int8_weights_float_activations():
    b = Builder(1)
    x = b.input("x", (1, 8, 8, 16))
    h = b.op("CONV_2D", [x, b.const((32, 3, 3, 16)), b.const(32)], (1, 8, 8, 32), UNIT, name="conv")
    h = b.op("DEPTHWISE_CONV_2D", [h, b.const((1, 3, 3, 32)), b.const(32)], (1, 8, 8, 32), UNIT,
             name="dw")
    f = b.op("RESHAPE", [h, Tensor.constant("s", np.array([1, 2048], np.int32))], (1, 2048), name="flat")
    y = b.op("FULLY_CONNECTED", [f, b.const((10, 2048)), b.const(10)], (1, 10), name="fc")
    model = b.model([x], [y])
    q, kept = quantize_dynamic(model)
    ops = {op.sources[0]: op for op in q.graph.ops}
    conv_w, fc_w = ops["conv"].inputs[1], ops["fc"].inputs[1]
    assert conv_w.dtype == "int8" and conv_w.quant.axis == 0 and conv_w.quant.scale.size == 32
    assert fc_w.dtype == "int8" and fc_w.quant.scale.size == 1  # per tensor: see dynamic.HYBRID
    assert ops["fc"].options["asymmetric_quantize_inputs"] is True
    assert ops["conv"].inputs[2].dtype == "float32"  # biases stay float in hybrid kernels
    assert ops["dw"].inputs[1].dtype == "float32"  # 288 weights: too few to be worth it
    assert [(k.op, k.reason) for k in kept] == [("dw", f"weights have 288 < {MIN_ELEMENTS} elements")]
    assert all(t.dtype == "float32" for op in q.graph.ops for t in op.outputs)
