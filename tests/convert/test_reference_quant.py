"""DEQUANTIZE and QUANTIZE against ai-edge-litert's reference kernels: float16 and per-tensor / per-axis
integer dequantization (1e-6 relative), quantization exact, with values on rounding ties and out of range."""
import numpy as np
import pytest

from edgepress.convert.ir import QuantParams, Tensor

from oracles import check, rand


def test_dequantize_float16():
    check("DEQUANTIZE", [Tensor.constant("w", rand((3, 4), 1).astype(np.float16))], out_dtypes=["float32"], tol=0)


@pytest.mark.parametrize("dtype,zero", [("int8", -3), ("uint8", 128), ("int16", 0)])
def test_dequantize_per_tensor(dtype, zero):
    info = np.iinfo(dtype)
    q = rand((2, 3, 4), 2, dtype, info.min, info.max)
    check("DEQUANTIZE", [q], out_dtypes=["float32"], tol=1e-6, in_quant={0: QuantParams(np.float32(0.0371), zero)})


@pytest.mark.parametrize("axis", [0, 3])
def test_dequantize_per_axis_int8(axis):
    shape = (4, 3, 3, 5)
    scales = np.linspace(0.01, 0.2, shape[axis]).astype(np.float32)
    w = Tensor.constant("w", rand(shape, 3, "int8", -127, 127))
    w.quant = QuantParams(scales, np.zeros(shape[axis], np.int64), axis=axis)
    check("DEQUANTIZE", [w], out_dtypes=["float32"], tol=1e-6)


@pytest.mark.parametrize("dtype,scale,zero", [("int8", 0.05, -5), ("uint8", 0.1, 120), ("int16", 0.001, 0)])
def test_quantize(dtype, scale, zero):
    x = rand((4, 25), 4, low=-15, high=15)
    x[0, :6] = np.float32(scale) * np.array([0.5, 1.5, 2.5, -0.5, -1.5, -2.5], np.float32)  # ties
    (y,) = check("QUANTIZE", [x], out_dtypes=[dtype], out_quant={0: QuantParams(np.float32(scale), zero)}, tol=0)
    info = np.iinfo(dtype)
    assert y.min() >= info.min and y.max() <= info.max
