"""Reductions (MEAN, SUM, REDUCE_MAX, REDUCE_MIN, REDUCE_PROD, int8 MEAN), ARG_MAX/ARG_MIN and
SOFTMAX / LOG_SOFTMAX (float32, int8 table method) vs ai-edge-litert."""
import numpy as np
import pytest

from kernel_harness import check, const, inp, out, rand

AXES = [([1, 2], True), ([0], False), ([-1], True), ([0, 2, 3], False), ([1, -3], False)]


@pytest.mark.parametrize("op", ["MEAN", "SUM", "REDUCE_MAX", "REDUCE_MIN", "REDUCE_PROD"])
@pytest.mark.parametrize("axes,keep", AXES)
def test_reduce_f32(op, axes, keep):
    rng = np.random.default_rng(90)
    low = 0.5 if op == "REDUCE_PROD" else -1.0
    x = rand(rng, (2, 5, 6, 7), low=low, high=1.5 if op == "REDUCE_PROD" else 1.0)
    check(op, [inp(x.shape), const(np.array(axes, np.int32))], [out()], [x], {"keep_dims": keep})


@pytest.mark.parametrize("op", ["SUM", "REDUCE_MAX", "REDUCE_MIN"])
def test_reduce_i32(op):
    rng = np.random.default_rng(91)
    x = rand(rng, (3, 4, 5), "int32", -1000, 1000)
    check(op, [inp(x.shape, "int32"), const(np.array([0, 2], np.int32))], [out("int32")], [x], {"keep_dims": False})


@pytest.mark.parametrize("axes,keep", AXES)
def test_mean_s8(axes, keep):
    # Exact for the spatial mean; TFLite reaches other axis sets through paths that round differently.
    rng = np.random.default_rng(92)
    x = rand(rng, (2, 5, 6, 7), "int8")
    lsb = 0 if (axes, keep) == ([1, 2], True) else 1
    check("MEAN", [inp(x.shape, "int8", 0.05, -3), const(np.array(axes, np.int32))], [out("int8", 0.03, 5)], [x],
          {"keep_dims": keep}, lsb=1, builtin_lsb=lsb)


@pytest.mark.parametrize("op", ["ARG_MAX", "ARG_MIN"])
@pytest.mark.parametrize("axis", [0, 2, -1])
@pytest.mark.parametrize("dtype", ["float32", "int8"])
def test_arg(op, axis, dtype):
    rng = np.random.default_rng(93)
    x = rand(rng, (3, 4, 9), dtype)
    x[0, 0, :3] = x[0, 0, 3]  # ties resolve to the first index
    check(op, [inp(x.shape, dtype), const(np.array([axis], np.int32))], [out("int32")], [x],
          {"output_type": "INT32"})


@pytest.mark.parametrize("shape", [(3, 10), (2, 4, 33), (1, 1000)])
@pytest.mark.parametrize("beta", [1.0, 0.5])
def test_softmax_f32(shape, beta):
    rng = np.random.default_rng(94)
    x = rand(rng, shape, low=-5.0, high=5.0)
    check("SOFTMAX", [inp(x.shape)], [out()], [x], {"beta": beta})


def test_log_softmax_f32():
    rng = np.random.default_rng(95)
    x = rand(rng, (4, 17), low=-5.0, high=5.0)
    check("LOG_SOFTMAX", [inp(x.shape)], [out()], [x])


@pytest.mark.parametrize("shape", [(3, 10), (2, 4, 33), (1, 1000)])
@pytest.mark.parametrize("in_scale", [0.05, 0.2])
def test_softmax_s8(shape, in_scale):
    rng = np.random.default_rng(96)
    x = rand(rng, shape, "int8")
    check("SOFTMAX", [inp(x.shape, "int8", in_scale, 7)], [out("int8", 1 / 256, -128)], [x], {"beta": 1.0})
