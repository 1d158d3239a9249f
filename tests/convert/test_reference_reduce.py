"""Reductions, ARG_MAX/ARG_MIN and CUMSUM against ai-edge-litert's reference kernels (floats 1e-5
relative, ints exact): several axes, negative and repeated axes, keep_dims."""
import numpy as np
import pytest

from oracles import check, rand

AXES = [[1], [-1], [0, 2], [2, -3], [1, 1], [0, 1, 2]]


@pytest.mark.parametrize("op_type", ["MEAN", "SUM", "REDUCE_MAX", "REDUCE_MIN", "REDUCE_PROD"])
@pytest.mark.parametrize("axes", AXES)
@pytest.mark.parametrize("keep", [False, True])
def test_reduce(op_type, axes, keep):
    x = rand((3, 4, 5), 1, low=0.5, high=1.5) if op_type == "REDUCE_PROD" else rand((3, 4, 5), 1)
    check(op_type, [x, np.array(axes, np.int32)], {"keep_dims": keep})


@pytest.mark.parametrize("op_type", ["SUM", "REDUCE_MAX", "MEAN"])
def test_reduce_int32(op_type):
    check(op_type, [rand((3, 4, 5), 2, "int32", -9, 9), np.array([1], np.int32)], {"keep_dims": False})


def test_mean_scalar_axis():
    check("MEAN", [rand((2, 6, 6, 3), 3), np.array(2, np.int32)], {"keep_dims": True})


@pytest.mark.parametrize("op_type", ["ARG_MAX", "ARG_MIN"])
@pytest.mark.parametrize("axis", [0, 1, -1])
@pytest.mark.parametrize("out", ["int32", "int64"])
def test_arg_min_max(op_type, axis, out):
    x = rand((3, 4, 5), 4, "int32", -2, 2).astype(np.float32)  # few distinct values: ties pick the first
    check(op_type, [x, np.array([axis], np.int32)], {"output_type": out.upper()}, out_dtypes=[out])


@pytest.mark.parametrize("exclusive", [False, True])
@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("axis", [0, -1])
def test_cumsum(exclusive, reverse, axis):
    check("CUMSUM", [rand((3, 5), 5), np.array(axis, np.int32)], {"exclusive": exclusive, "reverse": reverse})
