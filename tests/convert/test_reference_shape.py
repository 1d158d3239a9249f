"""Shape ops against ai-edge-litert's reference kernels (values exact: they only move data)."""
import numpy as np
import pytest

from oracles import check, rand


@pytest.mark.parametrize("new_shape", [[4, -1], [2, 3, 4], [-1], [24, 1], [1, -1, 2, 1]])
def test_reshape_from_input(new_shape):
    check("RESHAPE", [rand((2, 3, 4), 1), np.array(new_shape, np.int32)], tol=0)


def test_reshape_from_options():
    (y,) = check("RESHAPE", [rand((2, 3, 4), 2)], {"new_shape": [6, -1]}, tol=0)
    assert y.shape == (6, 4)


@pytest.mark.parametrize("dims,xs", [([], (1, 3, 1, 2)), ([0], (1, 3, 1, 2)), ([-2, 0], (1, 3, 1, 2))])
def test_squeeze(dims, xs):
    check("SQUEEZE", [rand(xs, 3)], {"squeeze_dims": dims}, tol=0)


@pytest.mark.parametrize("axis", [0, 2, -1, -4])
def test_expand_dims(axis):
    check("EXPAND_DIMS", [rand((2, 3, 4), 4), np.array([axis], np.int32)], tol=0)


@pytest.mark.parametrize("perm", [[0, 3, 1, 2], [3, 2, 1, 0], [0, 2, 3, 1]])
def test_transpose(perm):
    check("TRANSPOSE", [rand((2, 3, 4, 5), 5), np.array(perm, np.int32)], tol=0)


@pytest.mark.parametrize("out", ["int32", "int64"])
def test_shape(out):
    (y,) = check("SHAPE", [rand((2, 3, 4), 6)], {"out_type": out.upper()}, out_dtypes=[out])
    np.testing.assert_array_equal(y, [2, 3, 4])


@pytest.mark.parametrize("xs,shape", [((3,), (2, 3)), ((2, 1, 4), (2, 3, 4)), ((1,), (2, 2, 2)),
                                      ((3, 1), (2, 3, 5))])
def test_broadcast_to(xs, shape):
    check("BROADCAST_TO", [rand(xs, 7), np.array(shape, np.int32)], tol=0)


@pytest.mark.parametrize("multiples", [[1, 2, 3], [2, 1, 1], [1, 1, 1]])
def test_tile(multiples):
    check("TILE", [rand((2, 3, 1), 8), np.array(multiples, np.int32)], tol=0)


@pytest.mark.parametrize("block", [2, 3])
def test_depth_to_space(block):
    (y,) = check("DEPTH_TO_SPACE", [rand((2, 3, 4, 2 * block * block), 9)], {"block_size": block}, tol=0)
    assert y.shape == (2, 3 * block, 4 * block, 2)


@pytest.mark.parametrize("block", [2, 3])
def test_space_to_depth(block):
    check("SPACE_TO_DEPTH", [rand((1, 2 * block, 3 * block, 3), 10)], {"block_size": block}, tol=0)


def test_depth_to_space_is_dcr():
    # channel (i*b + j)*C + c lands at (h*b + i, w*b + j, c): with C=1 channel k goes to position k
    x = np.arange(4, dtype=np.float32).reshape(1, 1, 1, 4)
    (y,) = check("DEPTH_TO_SPACE", [x], {"block_size": 2}, tol=0)
    np.testing.assert_array_equal(y.reshape(2, 2), [[0, 1], [2, 3]])
