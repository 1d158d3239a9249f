"""MAX_POOL_2D and AVERAGE_POOL_2D against ai-edge-litert's reference kernels (1e-5 relative): SAME padding
with odd sizes (where TFLite leaves padded pixels out of the average), strides, windows larger than the
input."""
import pytest

from oracles import check, rand

CASES = [
    ((1, 7, 9, 3), (3, 3), (2, 2), "SAME"),
    ((2, 8, 8, 2), (2, 2), (2, 2), "VALID"),
    ((1, 5, 6, 4), (3, 2), (1, 1), "SAME"),
    ((1, 9, 7, 1), (5, 5), (3, 2), "SAME"),
    ((1, 4, 4, 2), (3, 3), (1, 2), "VALID"),
    ((1, 1, 1, 3), (3, 3), (2, 2), "SAME"),
    ((1, 3, 3, 2), (7, 7), (1, 1), "SAME"),
]


@pytest.mark.parametrize("op_type", ["MAX_POOL_2D", "AVERAGE_POOL_2D"])
@pytest.mark.parametrize("xs,window,strides,padding", CASES)
def test_pool(op_type, xs, window, strides, padding):
    opts = {"filter_height": window[0], "filter_width": window[1], "stride_h": strides[0], "stride_w": strides[1],
            "padding": padding}
    check(op_type, [rand(xs, 1)], opts)


@pytest.mark.parametrize("op_type", ["MAX_POOL_2D", "AVERAGE_POOL_2D"])
@pytest.mark.parametrize("act", ["RELU", "RELU6", "RELU_N1_TO_1"])
def test_pool_fused_activation(op_type, act):
    opts = {"filter_height": 2, "filter_width": 2, "stride_h": 1, "stride_w": 1, "padding": "SAME",
            "fused_activation_function": act}
    check(op_type, [rand((1, 5, 5, 2), 2, low=-8, high=8)], opts)
