"""QUANTIZE, DEQUANTIZE (int8/uint8/int16 per tensor and per axis, float16) and CAST vs ai-edge-litert."""
import numpy as np
import pytest

from kernel_harness import check, const, inp, out, rand


@pytest.mark.parametrize("dtype,scale,zp", [("int8", 0.02, -5), ("uint8", 0.03, 128), ("int16", 0.0004, 0)])
def test_quantize_from_float(dtype, scale, zp):
    rng = np.random.default_rng(80)
    x = rand(rng, (4, 33), low=-4.0, high=4.0)
    x[0, :5] = [0.5 * scale, -0.5 * scale, 1.5 * scale, 1e5, -1e5]  # ties and saturation
    check("QUANTIZE", [inp(x.shape)], [out(dtype, scale, zp)], [x])


@pytest.mark.parametrize("src,dst", [(("int8", 0.02, 3), ("int8", 0.05, -7)), (("uint8", 0.02, 128), ("int8", 0.02, 0)),
                                     (("int8", 0.1, 0), ("int16", 0.001, 0)), (("int16", 0.001, 0), ("int8", 0.03, 1))])
def test_requantize(src, dst):
    rng = np.random.default_rng(81)
    x = rand(rng, (3, 40), src[0])
    check("QUANTIZE", [inp(x.shape, *src)], [out(*dst)], [x])


@pytest.mark.parametrize("dtype,scale,zp", [("int8", 0.02, -5), ("uint8", 0.03, 128), ("int16", 0.0004, 0)])
def test_dequantize(dtype, scale, zp):
    rng = np.random.default_rng(82)
    x = rand(rng, (5, 21), dtype)
    check("DEQUANTIZE", [inp(x.shape, dtype, scale, zp)], [out()], [x])


def test_dequantize_per_axis_constant():
    rng = np.random.default_rng(83)
    w = rand(rng, (6, 3, 3, 4), "int8")
    scales = rng.uniform(0.001, 0.01, 6)
    check("DEQUANTIZE", [const(w, scale=scales, zero_point=[0] * 6, axis=0)], [out()], [])


def test_dequantize_float16():
    rng = np.random.default_rng(84)
    w = rand(rng, (7, 3, 3, 5), low=-60000.0, high=60000.0).astype(np.float16)
    bits = w.view(np.uint16)
    bits[0, 0, 0, :5] = [0x0001, 0x03FF, 0x7C00, 0xFC00, 0x8000]  # subnormals, infinities, -0
    check("DEQUANTIZE", [const(w)], [out()], [])


@pytest.mark.parametrize("src,dst", [("float32", "int32"), ("int32", "float32"), ("float32", "bool"),
                                     ("bool", "float32"), ("int32", "int64"), ("int64", "int32"), ("int8", "int32"),
                                     ("uint8", "float32"), ("float32", "int8"), ("int16", "int32")])
def test_cast(src, dst):
    rng = np.random.default_rng(85)
    x = rand(rng, (4, 9), src, -100, 100) if src != "float32" else rand(rng, (4, 9), low=-100.0, high=100.0)
    check("CAST", [inp(x.shape, src)], [out(dst)], [x])
