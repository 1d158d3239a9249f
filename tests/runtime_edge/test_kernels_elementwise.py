"""Elementwise kernels vs ai-edge-litert: broadcasting arithmetic (float32, int32, int8, int16) and unary math.

Shapes cover same-shape runs, scalar and per-channel broadcasting, and broadcasting on inner axes."""
import numpy as np
import pytest

from kernel_harness import check, inp, out, rand

SHAPES = [((2, 3, 17), (2, 3, 17)), ((2, 3, 17), (17,)), ((4, 1, 5), (1, 3, 1)), ((3, 6), ()),
          ((1, 9, 9, 8), (1, 1, 1, 8))]
FLOAT_OPS = ["ADD", "SUB", "MUL", "DIV", "POW", "SQUARED_DIFFERENCE", "MAXIMUM", "MINIMUM"]
ACT_OPS = {"ADD", "SUB", "MUL", "DIV"}


@pytest.mark.parametrize("op", FLOAT_OPS)
@pytest.mark.parametrize("a_shape,b_shape", SHAPES)
def test_binary_f32(op, a_shape, b_shape):
    rng = np.random.default_rng(40)
    low = 0.1 if op in ("POW", "DIV") else -2.0  # positive bases for POW, divisors away from zero
    a, b = rand(rng, a_shape, low=low, high=2.0), rand(rng, b_shape, low=low, high=2.0)
    options = {"fused_activation_function": "RELU6"} if op in ACT_OPS else {}
    check(op, [inp(a.shape), inp(b.shape)], [out()], [a, b], options)


@pytest.mark.parametrize("op", ["ADD", "SUB", "MUL", "MAXIMUM", "MINIMUM", "SQUARED_DIFFERENCE"])
def test_binary_i32(op):
    rng = np.random.default_rng(41)
    a, b = rand(rng, (3, 5, 7), "int32", -1000, 1000), rand(rng, (5, 1), "int32", -1000, 1000)
    check(op, [inp(a.shape, "int32"), inp(b.shape, "int32")], [out("int32")], [a, b])


@pytest.mark.parametrize("op", ["ADD", "SUB", "MUL"])
@pytest.mark.parametrize("a_shape,b_shape", SHAPES[:3])
@pytest.mark.parametrize("act", ["NONE", "RELU"])
def test_binary_s8(op, a_shape, b_shape, act):
    rng = np.random.default_rng(42)
    a, b = rand(rng, a_shape, "int8"), rand(rng, b_shape, "int8")
    check(op, [inp(a.shape, "int8", 0.02, -3), inp(b.shape, "int8", 0.035, 7)], [out("int8", 0.05, 2)], [a, b],
          {"fused_activation_function": act})


@pytest.mark.parametrize("op", ["ADD", "SUB", "MUL"])
def test_binary_s16(op):
    rng = np.random.default_rng(43)
    a, b = rand(rng, (2, 3, 17), "int16"), rand(rng, (17,), "int16")
    options = {} if op == "MUL" else {"pot_scale_int16": False}
    check(op, [inp(a.shape, "int16", 0.0003, 0), inp(b.shape, "int16", 0.0005, 0)], [out("int16", 0.0007, 0)],
          [a, b], options)


@pytest.mark.parametrize("op,low,high", [("SQRT", 0.0, 4.0), ("RSQRT", 0.1, 4.0), ("EXP", -5.0, 5.0),
                                         ("LOG", 0.01, 10.0), ("NEG", -3.0, 3.0), ("ABS", -3.0, 3.0)])
def test_unary_f32(op, low, high):
    rng = np.random.default_rng(44)
    x = rand(rng, (3, 7, 11), low=low, high=high)
    check(op, [inp(x.shape)], [out()], [x])


@pytest.mark.parametrize("op", ["NEG", "ABS"])
def test_unary_i32(op):
    rng = np.random.default_rng(45)
    x = rand(rng, (5, 9), "int32", -10000, 10000)
    check(op, [inp(x.shape, "int32")], [out("int32")], [x])


@pytest.mark.parametrize("op", ["SIN", "COS", "SIGN", "ROUND", "FLOOR", "CEIL"])
def test_unary_f32_rounding_and_trig(op):
    rng = np.random.default_rng(46)
    x = rand(rng, (4, 5, 6), low=-6.0, high=6.0)
    # Exact halves (ROUND is half-to-even), integers and zeros of both signs exercise the edge cases.
    x.flat[:12] = [-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 0.0, -0.0, 3.0, -3.0, 1e-30, -1e-30]
    check(op, [inp(x.shape)], [out()], [x])


def test_sign_i32():
    rng = np.random.default_rng(47)
    x = rand(rng, (3, 11), "int32", -3, 3)
    x.flat[:3] = [np.iinfo(np.int32).min, 0, np.iinfo(np.int32).max]
    check("SIGN", [inp(x.shape, "int32")], [out("int32")], [x])


@pytest.mark.parametrize("op", ["ADD", "SUB", "MUL", "MAXIMUM", "MINIMUM", "FLOOR_MOD"])
@pytest.mark.parametrize("a_shape,b_shape", [((2, 3, 17), (2, 3, 17)), ((3, 5, 7), (5, 1)), ((4, 6), ())])
def test_binary_i64(op, a_shape, b_shape):
    rng = np.random.default_rng(48)
    a = rand(rng, a_shape, "int64", -10**12, 10**12) if op != "MUL" else rand(rng, a_shape, "int64", -10**6, 10**6)
    b = rand(rng, b_shape, "int64", -10**6, 10**6)
    b[b == 0] = 7  # FLOOR_MOD by zero is an error in TFLite
    check(op, [inp(a.shape, "int64"), inp(b.shape, "int64")], [out("int64")], [a, b])


@pytest.mark.parametrize("dtype", ["float32", "int32"])
@pytest.mark.parametrize("a_shape,b_shape", [((2, 3, 17), (2, 3, 17)), ((3, 5, 7), (5, 1))])
def test_floor_mod(dtype, a_shape, b_shape):
    rng = np.random.default_rng(49)
    a, b = rand(rng, a_shape, dtype, -50, 50), rand(rng, b_shape, dtype, -9, 9)
    b[np.abs(b) < 0.5] = 3  # nonzero divisors of both signs; the result takes the divisor's sign
    a.flat[:4] = [0, -6, 6, -7]
    check("FLOOR_MOD", [inp(a.shape, dtype), inp(b.shape, dtype)], [out(dtype)], [a, b])
