"""AVERAGE_POOL_2D and MAX_POOL_2D vs ai-edge-litert on float32, int8 and int16 (window clipping at borders,
SAME/VALID padding, strides, fused activation)."""
import numpy as np
import pytest

from kernel_harness import check, inp, out, rand

CASES = [
    # (input, filter, stride, padding, activation)
    ((1, 9, 9, 8), (3, 3), (2, 2), "SAME", "NONE"),
    ((2, 10, 7, 70), (2, 2), (2, 2), "VALID", "RELU"),
    ((1, 8, 8, 3), (8, 8), (1, 1), "VALID", "NONE"),
    ((1, 7, 11, 5), (3, 5), (1, 2), "SAME", "RELU6"),
]


@pytest.mark.parametrize("op", ["AVERAGE_POOL_2D", "MAX_POOL_2D"])
@pytest.mark.parametrize("dtype", ["float32", "int8", "int16"])
@pytest.mark.parametrize("shape,filt,stride,padding,act", CASES)
def test_pool(op, dtype, shape, filt, stride, padding, act):
    rng = np.random.default_rng(60)
    x = rand(rng, shape, dtype)
    q = {"float32": {}, "int8": {"scale": 0.05, "zero_point": -3}, "int16": {"scale": 0.001, "zero_point": 0}}[dtype]
    check(op, [inp(x.shape, dtype, **q)], [out(dtype, **q)], [x],
          {"padding": padding, "stride_h": stride[0], "stride_w": stride[1], "filter_height": filt[0],
           "filter_width": filt[1], "fused_activation_function": act})
