"""Tensor-building ops against ai-edge-litert's reference kernels (floats 1e-5 relative, else exact)."""
import numpy as np
import pytest

from oracles import check, one_op, rand, run_reference


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_concatenation(axis):
    xs = [rand((2, 3, 4), i) for i in range(3)]
    check("CONCATENATION", xs, {"axis": axis}, live=(0, 1, 2))


def test_concatenation_uneven():
    xs = [rand((2, 1, 4), 1), rand((2, 3, 4), 2), rand((2, 2, 4), 3)]
    check("CONCATENATION", xs, {"axis": 1}, live=(0, 1, 2))


@pytest.mark.parametrize("axis,num", [(0, 2), (1, 3), (-1, 4)])
def test_split(axis, num):
    check("SPLIT", [np.array(axis, np.int32), rand((4, 6, 8), 4)], {"num_splits": num}, live=(1,),
          out_dtypes=["float32"] * num)


@pytest.mark.parametrize("sizes,axis", [([2, 3, 1], 1), ([1, -1, 2], -1), ([4], 0)])
def test_split_v(sizes, axis):
    check("SPLIT_V", [rand((4, 6, 8), 5), np.array(sizes, np.int32), np.array(axis, np.int32)],
          {"num_splits": len(sizes)}, out_dtypes=["float32"] * len(sizes))


PADS = [[[0, 0], [1, 2], [2, 1], [0, 0]], [[1, 0], [0, 0], [0, 3], [1, 1]]]


@pytest.mark.parametrize("pads", PADS)
def test_pad(pads):
    check("PAD", [rand((1, 3, 4, 2), 6), np.array(pads, np.int32)], tol=0)


@pytest.mark.parametrize("pads", PADS)
def test_padv2(pads):
    check("PADV2", [rand((1, 3, 4, 2), 7), np.array(pads, np.int32), np.array(-1.5, np.float32)], tol=0)


@pytest.mark.parametrize("mode", ["REFLECT", "SYMMETRIC"])
@pytest.mark.parametrize("pads", [[[0, 0], [2, 1], [1, 2], [0, 0]], [[0, 0], [0, 2], [3, 0], [1, 1]]])
def test_mirror_pad(mode, pads):
    check("MIRROR_PAD", [rand((1, 4, 5, 2), 8), np.array(pads, np.int32)], {"mode": mode}, tol=0)


def test_fill():
    check("FILL", [np.array([2, 3], np.int32), np.array(1.25, np.float32)], live=(1,), out_dtypes=["float32"])


@pytest.mark.parametrize("start,limit,delta,dtype", [(0, 10, 3, "int32"), (10, 1, -2, "int32"),
                                                     (0.5, 2.0, 0.1, "float32"), (-1.0, 1.0, 0.3, "float32")])
def test_range(start, limit, delta, dtype):
    args = [np.array(v, dtype) for v in (start, limit, delta)]
    check("RANGE", args, live=(0, 1, 2), out_dtypes=[dtype])


def test_range_empty():
    """litert cannot hand back an empty tensor, so this case is checked against np.arange."""
    args = [np.array(v, np.int32) for v in (3, 3, 1)]
    (y,) = run_reference(one_op("RANGE", args, live=(0, 1, 2)), args)
    np.testing.assert_array_equal(y, np.arange(3, 3, 1, dtype=np.int32))


@pytest.mark.parametrize("src,dst", [("float32", "int32"), ("int32", "float32"), ("float32", "bool"),
                                     ("bool", "float32"), ("int32", "int64"), ("float32", "uint8")])
def test_cast(src, dst):
    x = rand((3, 5), 9, low=0, high=9) if dst == "uint8" else rand((3, 5), 9, low=-9, high=9)
    x = x.astype(src) if src != "bool" else rand((3, 5), 9, "bool")
    check("CAST", [x], {"in_data_type": src.upper(), "out_data_type": dst.upper()}, out_dtypes=[dst])


def test_select_v2_broadcast():
    check("SELECT_V2", [rand((3, 1), 10, "bool"), rand((3, 4), 11), rand((4,), 12)], live=(0, 1, 2),
          out_dtypes=["float32"])


@pytest.mark.parametrize("cond_shape", [(2, 3, 4), (2,)])
def test_select(cond_shape):
    check("SELECT", [rand(cond_shape, 13, "bool"), rand((2, 3, 4), 14), rand((2, 3, 4), 15)], live=(0, 1, 2),
          out_dtypes=["float32"])


@pytest.mark.parametrize("dtype", ["float32", "int32"])
def test_zeros_like(dtype):
    check("ZEROS_LIKE", [rand((2, 3), 16, dtype)])
