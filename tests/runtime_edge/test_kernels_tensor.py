"""Data-movement kernels vs ai-edge-litert: RESHAPE, SQUEEZE, EXPAND_DIMS, TRANSPOSE, SLICE, STRIDED_SLICE,
CONCATENATION, SPLIT, SPLIT_V, PAD, PADV2, MIRROR_PAD, DEPTH_TO_SPACE, SPACE_TO_DEPTH, on float32 and
integer dtypes (these kernels move bytes, so results must be identical)."""
import numpy as np
import pytest

from kernel_harness import check, const, inp, out, rand

I32 = np.int32


@pytest.mark.parametrize("dtype", ["float32", "int8"])
def test_reshape_from_shape_tensor_and_options(dtype):
    rng = np.random.default_rng(20)
    x = rand(rng, (2, 3, 4), dtype)
    q = {"scale": 0.1, "zero_point": 1} if dtype == "int8" else {}
    check("RESHAPE", [inp(x.shape, dtype, **q), const(np.array([4, -1], I32))], [out(dtype, **q)], [x])
    check("RESHAPE", [inp(x.shape, dtype, **q)], [out(dtype, **q)], [x], {"new_shape": [6, 4]})


def test_squeeze_and_expand_dims():
    rng = np.random.default_rng(21)
    x = rand(rng, (1, 3, 1, 5))
    check("SQUEEZE", [inp(x.shape)], [out()], [x])
    check("SQUEEZE", [inp(x.shape)], [out()], [x], {"squeeze_dims": [2]})
    check("EXPAND_DIMS", [inp(x.shape), const(np.array(-2, I32))], [out()], [x])


@pytest.mark.parametrize("shape,perm", [((2, 3, 4), (2, 0, 1)), ((1, 5, 7, 3), (0, 3, 1, 2)),
                                        ((2, 3, 4, 5, 6), (4, 1, 3, 0, 2)), ((4, 6), (1, 0))])
@pytest.mark.parametrize("dtype", ["float32", "int8", "int32"])
def test_transpose(shape, perm, dtype):
    rng = np.random.default_rng(22)
    x = rand(rng, shape, dtype, -100, 100)
    check("TRANSPOSE", [inp(x.shape, dtype), const(np.array(perm, I32))], [out(dtype)], [x])


def test_slice():
    rng = np.random.default_rng(23)
    x = rand(rng, (3, 7, 9, 4))
    check("SLICE", [inp(x.shape), const(np.array([1, 2, 0, 1], I32)), const(np.array([2, -1, 5, 3], I32))],
          [out(shape=(2, 5, 5, 3))], [x])


STRIDED = [
    # (shape, begin, end, strides, options)
    ((5, 7, 9), [1, 0, 2], [4, 7, 9], [1, 2, 3], {}),
    ((5, 7, 9), [-1, 0, 8], [-6, 7, 0], [-1, 3, -2], {}),
    ((5, 7, 9), [0, 1, 0], [0, 5, 0], [1, 1, 1], {"begin_mask": 5, "end_mask": 5}),
    ((5, 7, 9), [2, 3, 0], [3, 4, 9], [1, 1, 1], {"shrink_axis_mask": 3}),
    ((5, 7, 9), [1, 0], [3, 0], [1, 1], {"ellipsis_mask": 2}),
    ((5, 7, 9), [0, 1, 2], [0, 4, 8], [1, 1, 2], {"new_axis_mask": 1}),
    ((1, 8, 8, 6), [0, 0, 0, 0], [1, 8, 8, 6], [1, 2, 2, 1], {}),
]


@pytest.mark.parametrize("shape,begin,end,strides,options", STRIDED)
def test_strided_slice(shape, begin, end, strides, options):
    rng = np.random.default_rng(24)
    x = rand(rng, shape)
    check("STRIDED_SLICE", [inp(x.shape), const(np.array(begin, I32)), const(np.array(end, I32)),
                            const(np.array(strides, I32))], [out()], [x], options)


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_concatenation(axis):
    rng = np.random.default_rng(25)
    shapes = [(2, 3, 4), (2, 3, 4), (2, 3, 4)]
    shapes = [tuple(s if i != axis % 3 else s + k for i, s in enumerate(sh)) for k, sh in enumerate(shapes)]
    xs = [rand(rng, s) for s in shapes]
    check("CONCATENATION", [inp(s) for s in shapes], [out()], xs, {"axis": axis})


def test_concatenation_int8_with_constant():
    rng = np.random.default_rng(26)
    x, c = rand(rng, (1, 4, 4, 3), "int8"), rand(rng, (1, 4, 4, 2), "int8")
    check("CONCATENATION", [inp(x.shape, "int8", 0.1, 2), const(c, scale=0.1, zero_point=2)],
          [out("int8", 0.1, 2)], [x], {"axis": 3})


def test_split_and_split_v():
    rng = np.random.default_rng(27)
    x = rand(rng, (4, 6, 5))
    check("SPLIT", [const(np.array(1, I32)), inp(x.shape)], [out(), out(), out()], [x], {"num_splits": 3})
    check("SPLIT_V", [inp(x.shape), const(np.array([1, -1, 2], I32)), const(np.array(-1, I32))],
          [out(), out(), out()], [x], {"num_splits": 3})


@pytest.mark.parametrize("dtype", ["float32", "int8"])
def test_pad_and_padv2(dtype):
    rng = np.random.default_rng(28)
    x = rand(rng, (1, 5, 6, 3), dtype)
    q = {"scale": 0.05, "zero_point": -4} if dtype == "int8" else {}
    pads = const(np.array([[0, 0], [1, 2], [3, 0], [0, 1]], I32))
    check("PAD", [inp(x.shape, dtype, **q), pads], [out(dtype, **q)], [x])
    value = np.array(7, dtype)
    check("PADV2", [inp(x.shape, dtype, **q), pads, const(value, **q)], [out(dtype, **q)], [x])


@pytest.mark.parametrize("mode", ["REFLECT", "SYMMETRIC"])
def test_mirror_pad(mode):
    rng = np.random.default_rng(29)
    x = rand(rng, (2, 5, 6, 3))
    pads = const(np.array([[0, 1], [2, 3], [3, 0], [1, 2]], I32))
    check("MIRROR_PAD", [inp(x.shape), pads], [out()], [x], {"mode": mode})


@pytest.mark.parametrize("dtype", ["float32", "int8"])
def test_depth_to_space_and_space_to_depth(dtype):
    rng = np.random.default_rng(30)
    x = rand(rng, (2, 3, 4, 12), dtype)
    check("DEPTH_TO_SPACE", [inp(x.shape, dtype)], [out(dtype)], [x], {"block_size": 2})
    y = rand(rng, (2, 6, 9, 5), dtype)
    check("SPACE_TO_DEPTH", [inp(y.shape, dtype)], [out(dtype)], [y], {"block_size": 3})


@pytest.mark.parametrize("out_type", ["INT32", "INT64"])
@pytest.mark.parametrize("shape,dtype", [((2, 3, 4), "float32"), ((5,), "int8"), ((1, 7, 1, 2, 3), "int64")])
def test_shape(out_type, shape, dtype):
    rng = np.random.default_rng(21)
    x = rand(rng, shape, dtype)
    ref = check("SHAPE", [inp(x.shape, dtype)], [out(out_type.lower())], [x], {"out_type": out_type})
    np.testing.assert_array_equal(ref[0], shape)  # the oracle itself reports the input's shape


def test_reshape_with_run_time_shape():
    # int32 operands only: TFLite reads a non-constant int64 shape operand as absent.
    rng = np.random.default_rng(22)
    x = rand(rng, (2, 3, 4))
    for new_shape in ([4, -1], [3, 2, 4], [-1]):
        s = np.array(new_shape, I32)
        check("RESHAPE", [inp(x.shape), inp(s.shape, "int32")], [out(shape=(1,) * len(new_shape))], [x, s])


def test_reshape_with_run_time_shape_rejects_other_shapes():
    from edgepress.runtime_edge import Interpreter
    from kernel_harness import finalize
    x, s = np.zeros((2, 3, 4), np.float32), np.array([4, 6], I32)
    model, _ = finalize("RESHAPE", [inp(x.shape), inp(s.shape, "int32")], [out(shape=(1, 1))], feeds=[x, s])
    interp = Interpreter(model_content=model)
    interp.allocate_tensors()
    interp.set_tensor(interp.get_input_details()[0]["index"], x)
    interp.set_tensor(interp.get_input_details()[1]["index"], np.array([6, 4], I32))
    with pytest.raises(Exception, match="differs from the static shape"):
        interp.invoke()
