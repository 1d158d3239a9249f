"""RESIZE_BILINEAR and RESIZE_NEAREST_NEIGHBOR against ai-edge-litert's reference kernels (bilinear 1e-5
relative; nearest exact, since it only copies pixels): up and down scaling with odd sizes under every
allowed align_corners / half_pixel_centers combination."""
import numpy as np
import pytest

from oracles import check, rand

SIZES = [((1, 4, 5, 2), (8, 10)), ((2, 5, 7, 3), (3, 4)), ((1, 3, 3, 1), (7, 11)), ((1, 6, 4, 2), (6, 9)),
         ((1, 1, 1, 2), (3, 2)), ((1, 7, 9, 1), (1, 1))]
MODES = [(False, False), (True, False), (False, True)]  # TFLite rejects align_corners with half_pixel_centers


@pytest.mark.parametrize("op_type", ["RESIZE_BILINEAR", "RESIZE_NEAREST_NEIGHBOR"])
@pytest.mark.parametrize("xs,size", SIZES)
@pytest.mark.parametrize("align_corners,half_pixel", MODES)
def test_resize(op_type, xs, size, align_corners, half_pixel):
    opts = {"align_corners": align_corners, "half_pixel_centers": half_pixel}
    x = rand(xs, 1)
    (y,) = check(op_type, [x, np.array(size, np.int32)], opts, tol=0 if op_type.endswith("NEIGHBOR") else 1e-5)
    assert y.shape == (xs[0], size[0], size[1], xs[3])


def test_nearest_align_corners_rounds_half_away_from_zero():
    # in 3 -> out 5 with align_corners: source = out * 0.5, so outputs 1 and 3 land exactly on .5
    x = np.arange(3, dtype=np.float32).reshape(1, 3, 1, 1)
    (y,) = check("RESIZE_NEAREST_NEIGHBOR", [x, np.array([5, 1], np.int32)], {"align_corners": True}, tol=0)
    np.testing.assert_array_equal(y.ravel(), [0, 1, 1, 2, 2])
