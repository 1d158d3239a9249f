"""SLICE, STRIDED_SLICE, GATHER and GATHER_ND against ai-edge-litert's reference kernels (exact: they only
pick elements)."""
import numpy as np
import pytest

from oracles import check, rand


@pytest.mark.parametrize("begin,size", [([0, 1, 2], [2, 2, -1]), ([1, 0, 0], [-1, -1, 1]), ([0, 0, 0], [2, 3, 4])])
def test_slice(begin, size):
    check("SLICE", [rand((2, 3, 4), 1), np.array(begin, np.int32), np.array(size, np.int32)], tol=0)


I32 = np.int32
SS_CASES = [
    # (begin, end, strides, options)
    ([0, 1, 0], [2, 3, 4], [1, 1, 2], {}),
    ([1, -1, 3], [0, 0, 0], [-1, -1, -1], {}),
    ([0, 0, 1], [0, 0, 3], [1, 1, 1], {"begin_mask": 0b011, "end_mask": 0b011}),
    ([1, 2, 0], [2, 3, 4], [1, 1, 1], {"shrink_axis_mask": 0b011}),
    ([-1, 0, -2], [0, 2, 0], [1, 1, 1], {"shrink_axis_mask": 0b101, "end_mask": 0b010}),
    ([0, 1], [5, 9], [1, 2], {}),
    ([-10, 1, 1], [10, 100, -1], [1, 1, 1], {}),
    ([1, 0], [2, 2], [1, 1], {"ellipsis_mask": 0b01}),
    ([0, 1], [1, 3], [1, 1], {"ellipsis_mask": 0b10, "shrink_axis_mask": 0b01}),
    ([0, 0, 1], [1, 1, 3], [1, 1, 1], {"new_axis_mask": 0b010}),
    ([0, 1, 1], [1, 2, 2], [1, 1, 1], {"offset": True}),
    ([1, 0, 2], [1, 3, -1], [1, 1, 1], {"offset": True}),
]


@pytest.mark.parametrize("begin,end,strides,opts", SS_CASES)
def test_strided_slice(begin, end, strides, opts):
    full = {"begin_mask": 0, "end_mask": 0, "ellipsis_mask": 0, "new_axis_mask": 0, "shrink_axis_mask": 0,
            "offset": False, **opts}
    args = [rand((2, 3, 4), 2), np.array(begin, I32), np.array(end, I32), np.array(strides, I32)]
    check("STRIDED_SLICE", args, full, tol=0)


@pytest.mark.parametrize("xs,idx_shape,axis,batch_dims", [
    ((5, 3), (4,), 0, 0),
    ((3, 5, 2), (2, 3), 1, 0),
    ((3, 5, 2), (4,), -1, 0),
    ((2, 5, 3), (2, 4), 1, 1),
    ((2, 3, 5, 2), (2, 3, 4), 2, 2),
    ((2, 5, 3), (2, 4), 1, -1),
])
def test_gather(xs, idx_shape, axis, batch_dims):
    a = axis % len(xs)
    idx = rand(idx_shape, 3, "int32", 0, xs[a] - 1)
    check("GATHER", [rand(xs, 4), idx], {"axis": axis, "batch_dims": batch_dims}, tol=0)


@pytest.mark.parametrize("xs,idx_shape", [((4, 5, 3), (2, 2)), ((4, 5, 3), (3, 1)), ((4, 5), (2, 3, 2))])
def test_gather_nd(xs, idx_shape):
    k = idx_shape[-1]
    idx = np.stack([rand(idx_shape[:-1], 5 + i, "int32", 0, xs[i] - 1) for i in range(k)], axis=-1)
    check("GATHER_ND", [rand(xs, 6), idx], tol=0)
