"""ONNX pooling through the importer: onnxruntime vs ai-edge-litert vs our reference evaluator."""
import numpy as np
import pytest

from edgepress.convert.onnx.importer import import_onnx
from edgepress.errors import ConversionError
from onnx_build import In, node_model, op_types
from onnx_harness import check_onnx_model

RNG = np.random.default_rng(9)

WINDOWS = [
    # x shape, attributes
    ((1, 2, 8, 8), {"kernel_shape": [2, 2], "strides": [2, 2]}),
    ((1, 2, 8, 8), {"kernel_shape": [3, 3], "strides": [2, 2], "pads": [1, 1, 1, 1]}),
    ((1, 2, 9, 9), {"kernel_shape": [3, 3], "strides": [2, 2], "pads": [1, 1, 1, 1]}),
    ((2, 3, 9, 9), {"kernel_shape": [3, 3], "strides": [2, 2], "pads": [0, 0, 1, 1]}),
    ((1, 2, 7, 9), {"kernel_shape": [3, 2], "strides": [1, 2], "pads": [1, 0, 1, 1]}),
    ((1, 2, 9, 9), {"kernel_shape": [2, 2], "strides": [2, 2], "ceil_mode": 1}),
    ((1, 2, 10, 9), {"kernel_shape": [3, 3], "strides": [2, 2], "pads": [1, 1, 1, 1], "ceil_mode": 1}),
    ((1, 2, 9, 10), {"kernel_shape": [3, 3], "strides": [2, 2], "auto_pad": "SAME_UPPER"}),
    ((1, 2, 9, 10), {"kernel_shape": [3, 3], "strides": [2, 2], "auto_pad": "SAME_LOWER"}),
    ((1, 2, 9, 10), {"kernel_shape": [3, 3], "strides": [2, 2], "auto_pad": "VALID"}),
    ((1, 2, 20, 19), {"kernel_shape": [3, 3], "strides": [2, 2], "dilations": [2, 2], "pads": [1, 2, 1, 2]}),
    ((1, 2, 20), {"kernel_shape": [3], "strides": [2], "pads": [1, 1]}),
    ((1, 2, 20), {"kernel_shape": [4], "strides": [3], "pads": [1, 2], "ceil_mode": 1}),
    ((1, 2, 5, 6, 7), {"kernel_shape": [2, 3, 2], "strides": [2, 1, 2], "pads": [1, 1, 0, 0, 1, 1]}),
    ((1, 2, 4, 4, 4), {"kernel_shape": [3, 3, 3]}),
]


@pytest.mark.parametrize("x_shape,attrs", WINDOWS)
def test_max_pool(x_shape, attrs):
    ir = check_onnx_model(node_model("MaxPool", [In(x_shape)], opset=13, **attrs))
    assert "MAX_POOL_2D" in op_types(ir)


@pytest.mark.parametrize("count_include_pad", [0, 1])
@pytest.mark.parametrize("x_shape,attrs", WINDOWS)
def test_average_pool(x_shape, attrs, count_include_pad):
    opset = 19 if "dilations" in attrs else 13
    model = node_model("AveragePool", [In(x_shape)], opset=opset, count_include_pad=count_include_pad, **attrs)
    ir = check_onnx_model(model)
    assert "AVERAGE_POOL_2D" in op_types(ir)


def test_pads_that_match_same_make_one_op():
    ir = check_onnx_model(node_model("AveragePool", [In((1, 2, 9, 9))], kernel_shape=[3, 3], strides=[2, 2],
                                     pads=[1, 1, 1, 1]))
    assert op_types(ir).count("AVERAGE_POOL_2D") == 1
    assert not {"PAD", "PADV2", "MUL"} & set(op_types(ir))


def test_max_pool_large_dilated_window():
    """The conformance suite's shape: stride a multiple of the dilation, a long 1-D signal."""
    model = node_model("MaxPool", [In((1, 1, 2000))], opset=12, kernel_shape=[30], strides=[10],
                       dilations=[10], pads=[25, 25])
    check_onnx_model(model)


@pytest.mark.parametrize("op,lowered", [("GlobalAveragePool", "MEAN"), ("GlobalMaxPool", "REDUCE_MAX")])
@pytest.mark.parametrize("x_shape", [(2, 3, 5, 6), (2, 3, 7), (1, 2, 3, 4, 5)])
def test_global_pool(op, lowered, x_shape):
    ir = check_onnx_model(node_model(op, [In(x_shape)]))
    assert op_types(ir) == [lowered]


def test_dilation_not_dividing_the_stride_is_rejected():
    model = node_model("MaxPool", [In((1, 2, 10, 10))], opset=12, kernel_shape=[3, 3], dilations=[2, 2])
    with pytest.raises(ConversionError, match="maxpool_node.*dilation 2 with stride 1"):
        import_onnx(model)


def test_max_pool_indices_output_is_rejected():
    model = node_model("MaxPool", [In((1, 2, 6, 6))], n_out=2, kernel_shape=[2, 2])
    with pytest.raises(ConversionError, match="maxpool_node.*Indices"):
        import_onnx(model)
