"""RESIZE_BILINEAR (float32, int8, int16) and RESIZE_NEAREST_NEIGHBOR vs ai-edge-litert, with every
align_corners / half_pixel_centers combination TFLite accepts, up- and down-sampling."""
import numpy as np
import pytest

from kernel_harness import check, const, inp, out, rand

MODES = [(False, False), (True, False), (False, True)]
SIZES = [((1, 5, 7, 3), (10, 14)), ((2, 8, 6, 17), (3, 5)), ((1, 4, 4, 8), (7, 9))]


@pytest.mark.parametrize("align,half", MODES)
@pytest.mark.parametrize("shape,size", SIZES)
@pytest.mark.parametrize("dtype", ["float32", "int8", "int16"])
def test_resize_bilinear(align, half, shape, size, dtype):
    rng = np.random.default_rng(70)
    x = rand(rng, shape, dtype)
    q = {"float32": {}, "int8": {"scale": 0.05, "zero_point": 3}, "int16": {"scale": 0.001, "zero_point": 0}}[dtype]
    check("RESIZE_BILINEAR", [inp(x.shape, dtype, **q), const(np.array(size, np.int32))], [out(dtype, **q)], [x],
          {"align_corners": align, "half_pixel_centers": half})


@pytest.mark.parametrize("align,half", MODES)
@pytest.mark.parametrize("shape,size", SIZES)
@pytest.mark.parametrize("dtype", ["float32", "int8"])
def test_resize_nearest(align, half, shape, size, dtype):
    rng = np.random.default_rng(71)
    x = rand(rng, shape, dtype)
    check("RESIZE_NEAREST_NEIGHBOR", [inp(x.shape, dtype), const(np.array(size, np.int32))], [out(dtype)], [x],
          {"align_corners": align, "half_pixel_centers": half})
