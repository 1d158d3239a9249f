"""ONNX Conv and ConvTranspose through the importer: onnxruntime vs ai-edge-litert vs our reference evaluator."""
import numpy as np
import pytest

from edgepress.convert.onnx.importer import import_onnx
from edgepress.errors import ConversionError
from onnx_build import In, node_model, op_types
from onnx_harness import check_onnx_model

RNG = np.random.default_rng(5)


def weights(*shape):
    return RNG.standard_normal(shape).astype(np.float32)


def conv_model(x_shape, w_shape, bias=True, op="Conv", opset=13, **attrs):
    out_channels = w_shape[0] if op == "Conv" else w_shape[1] * attrs.get("group", 1)
    args = [In(x_shape), weights(*w_shape)] + ([weights(out_channels)] if bias else [])
    return node_model(op, args, opset=opset, **attrs)


CONV2D = [
    # x shape, weight shape, attributes, the TFLite conv it becomes
    ((1, 3, 8, 8), (4, 3, 3, 3), {}, "CONV_2D"),
    ((2, 3, 8, 8), (4, 3, 3, 3), {"pads": [1, 1, 1, 1]}, "CONV_2D"),
    ((1, 3, 8, 9), (4, 3, 3, 3), {"pads": [1, 1, 1, 1], "strides": [2, 2]}, "CONV_2D"),
    ((1, 3, 9, 9), (4, 3, 3, 3), {"pads": [0, 0, 1, 1], "strides": [2, 2]}, "CONV_2D"),
    ((1, 3, 7, 8), (4, 3, 3, 2), {"pads": [2, 0, 1, 3]}, "CONV_2D"),
    ((1, 3, 9, 8), (4, 3, 3, 3), {"auto_pad": "SAME_UPPER", "strides": [2, 2]}, "CONV_2D"),
    ((1, 3, 9, 8), (4, 3, 3, 3), {"auto_pad": "SAME_LOWER", "strides": [2, 2]}, "CONV_2D"),
    ((1, 3, 9, 8), (4, 3, 3, 3), {"auto_pad": "VALID", "strides": [2, 1]}, "CONV_2D"),
    ((1, 3, 11, 10), (4, 3, 3, 3), {"dilations": [2, 3], "pads": [2, 3, 2, 3]}, "CONV_2D"),
    ((1, 3, 11, 10), (4, 3, 3, 3), {"dilations": [2, 2], "strides": [2, 2], "pads": [1, 1, 1, 1]}, "CONV_2D"),
    ((1, 8, 5, 5), (16, 8, 1, 1), {}, "CONV_2D"),
    ((2, 4, 8, 8), (4, 1, 3, 3), {"group": 4, "pads": [1, 1, 1, 1]}, "DEPTHWISE_CONV_2D"),
    ((1, 4, 8, 8), (12, 1, 3, 3), {"group": 4, "pads": [1, 1, 1, 1], "strides": [2, 2]}, "DEPTHWISE_CONV_2D"),
    ((1, 4, 9, 9), (4, 1, 5, 5), {"group": 4, "pads": [2, 1, 2, 1], "dilations": [1, 2]}, "DEPTHWISE_CONV_2D"),
    ((2, 4, 8, 7), (6, 2, 3, 3), {"group": 2}, "CONV_2D"),
    ((1, 6, 8, 8), (9, 2, 3, 3), {"group": 3, "pads": [1, 1, 1, 1], "strides": [2, 2]}, "CONV_2D"),
]


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("x_shape,w_shape,attrs,lowered", CONV2D)
def test_conv2d(x_shape, w_shape, attrs, lowered, bias):
    ir = check_onnx_model(conv_model(x_shape, w_shape, bias=bias, **attrs))
    assert lowered in op_types(ir)


@pytest.mark.parametrize("opset", [11, 21])
def test_conv_across_opsets(opset):
    check_onnx_model(conv_model((1, 3, 8, 8), (4, 3, 3, 3), opset=opset, pads=[1, 1, 1, 1]))


def test_same_pads_need_no_pad_op():
    """Pads equal to TFLite's SAME rule become padding=SAME; others an explicit PAD."""
    same = check_onnx_model(conv_model((1, 3, 8, 8), (4, 3, 3, 3), pads=[1, 1, 1, 1]))
    explicit = check_onnx_model(conv_model((1, 3, 8, 8), (4, 3, 3, 3), pads=[1, 1, 1, 1], strides=[2, 2]))
    assert "PAD" not in op_types(same) and [op.options["padding"] for op in same.graph.ops
                                            if op.type == "CONV_2D"] == ["SAME"]
    assert "PAD" in op_types(explicit)


def test_conv_dynamic_spatial_same_upper():
    model = conv_model((1, 3, None, None), (4, 3, 3, 3), auto_pad="SAME_UPPER", strides=[2, 2])
    check_onnx_model(model, {"x0": weights(1, 3, 10, 7)})


def test_stride1_pads_on_run_time_sizes_are_same():
    """With stride 1, symmetric pads of (kernel - 1) / 2 are TFLite's SAME at any input size: no PAD op."""
    model = conv_model((1, 3, None, None), (4, 3, 3, 3), pads=[1, 1, 1, 1])
    ir = check_onnx_model(model, {"x0": weights(1, 3, 7, 6)})
    assert "PAD" not in op_types(ir)


CONV1D = [
    ((2, 4, 10), (6, 4, 3), {}),
    ((2, 4, 10), (6, 4, 3), {"pads": [1, 2], "strides": [2]}),
    ((2, 4, 10), (6, 4, 3), {"dilations": [2], "pads": [2, 1]}),
    ((2, 4, 11), (6, 4, 3), {"strides": [2], "auto_pad": "SAME_UPPER"}),
    ((2, 4, 10), (4, 1, 3), {"group": 4, "pads": [1, 1]}),
    ((2, 4, 10), (6, 2, 3), {"group": 2}),
]


@pytest.mark.parametrize("x_shape,w_shape,attrs", CONV1D)
def test_conv1d(x_shape, w_shape, attrs):
    ir = check_onnx_model(conv_model(x_shape, w_shape, **attrs))
    assert {"CONV_2D", "DEPTHWISE_CONV_2D"} & set(op_types(ir))


CONV3D = [
    ((2, 3, 4, 5, 6), (4, 3, 2, 3, 2), {}),
    ((1, 3, 5, 5, 5), (4, 3, 2, 2, 2), {"pads": [1, 1, 1, 1, 1, 1], "strides": [2, 2, 2]}),
    ((1, 3, 6, 5, 7), (4, 3, 2, 3, 2), {"dilations": [2, 1, 2], "pads": [1, 0, 1, 0, 1, 1]}),
    ((1, 4, 4, 5, 4), (4, 2, 3, 3, 3), {"group": 2}),
]


@pytest.mark.parametrize("x_shape,w_shape,attrs", CONV3D)
def test_conv3d(x_shape, w_shape, attrs):
    ir = check_onnx_model(conv_model(x_shape, w_shape, **attrs))
    assert op_types(ir).count("CONV_2D") == 1


TRANSPOSED = [
    ((1, 3, 4, 5), (3, 4, 3, 3), {}),
    ((1, 3, 4, 5), (3, 4, 2, 2), {"strides": [2, 2]}),
    ((1, 3, 4, 5), (3, 4, 4, 4), {"strides": [2, 2], "pads": [1, 1, 1, 1]}),
    ((1, 3, 4, 5), (3, 4, 3, 3), {"strides": [2, 2], "pads": [1, 1, 1, 1], "output_padding": [1, 1]}),
    ((2, 3, 4, 5), (3, 4, 3, 3), {"strides": [3, 2], "pads": [1, 0, 2, 1], "output_padding": [2, 1]}),
    ((1, 3, 4, 5), (3, 4, 3, 3), {"strides": [2, 2], "output_shape": [8, 10]}),
    ((1, 3, 4, 5), (3, 4, 3, 3), {"strides": [2, 2], "output_shape": [9, 12]}),
    ((1, 3, 4, 5), (3, 4, 3, 3), {"strides": [2, 2], "auto_pad": "SAME_UPPER"}),
    ((1, 3, 4, 5), (3, 4, 3, 3), {"strides": [2, 2], "auto_pad": "SAME_LOWER"}),
    ((1, 3, 4, 5), (3, 4, 3, 3), {"strides": [2, 1], "dilations": [2, 2], "pads": [1, 2, 0, 1]}),
    ((1, 4, 4, 5), (4, 2, 3, 3), {"strides": [2, 2], "group": 2}),
    ((1, 4, 4, 5), (4, 1, 4, 4), {"strides": [2, 2], "group": 4, "pads": [1, 1, 1, 1]}),
    ((1, 3, 7), (3, 4, 3), {"strides": [2], "pads": [1, 0]}),
    ((1, 3, 7), (3, 4, 3), {"strides": [2], "output_shape": [14]}),
]


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("x_shape,w_shape,attrs", TRANSPOSED)
def test_conv_transpose(x_shape, w_shape, attrs, bias):
    ir = check_onnx_model(conv_model(x_shape, w_shape, bias=bias, op="ConvTranspose", **attrs))
    assert op_types(ir).count("TRANSPOSE_CONV") == 1


@pytest.mark.parametrize("w_shape,attrs", [
    ((3, 4, 2, 2), {"strides": [2, 2]}),
    ((3, 4, 3, 3), {"strides": [2, 2], "pads": [1, 1, 1, 1], "output_padding": [1, 1]}),
    ((3, 4, 3, 3), {"strides": [2, 1], "pads": [0, 2, 2, 1]}),
])
def test_conv_transpose_dynamic_spatial(w_shape, attrs):
    """Output size computed at run time from the input's shape (e.g. a DB head's 2x upsampling)."""
    model = conv_model((1, 3, None, None), w_shape, op="ConvTranspose", **attrs)
    check_onnx_model(model, {"x0": weights(1, 3, 6, 5)})


def test_conv_transpose_output_beyond_reach_is_rejected():
    model = conv_model((1, 3, 4, 4), (3, 4, 3, 3), op="ConvTranspose", strides=[2, 2], output_shape=[12, 12])
    with pytest.raises(ConversionError, match="convtranspose_node.*longer"):
        import_onnx(model)


def test_conv_transpose_3d_is_rejected_with_the_node_name():
    with pytest.raises(ConversionError, match="convtranspose_node.*3-D"):
        import_onnx(conv_model((1, 2, 3, 4, 5), (2, 2, 2, 2, 2), op="ConvTranspose"))


def test_runtime_weights():
    """Weights computed at run time are transposed to OHWI by a TRANSPOSE op."""
    model = node_model("Conv", [In((1, 3, 6, 6)), In((4, 3, 3, 3))], pads=[1, 1, 1, 1])
    check_onnx_model(model)
