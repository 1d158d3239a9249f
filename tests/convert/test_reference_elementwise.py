"""Elementwise ops against ai-edge-litert's reference kernels: broadcasting arithmetic with every fused
activation, integer division semantics, unary math, comparisons and logic (floats 1e-5 relative, ints and
bools exact)."""
import numpy as np
import pytest

from oracles import check, rand

SHAPES = [((2, 3, 4), (2, 3, 4)), ((2, 3, 4), (4,)), ((2, 1, 4), (3, 1)), ((5,), ())]


@pytest.mark.parametrize("op_type", ["ADD", "SUB", "MUL", "DIV"])
@pytest.mark.parametrize("act", ["NONE", "RELU", "RELU6", "RELU_N1_TO_1"])
def test_arithmetic_with_fused_activation(op_type, act):
    a, b = rand((2, 3, 4), 1), rand((3, 1), 2, low=0.5, high=3)
    check(op_type, [a, b], {"fused_activation_function": act}, live=(0, 1))


@pytest.mark.parametrize("op_type", ["ADD", "SUB", "MUL", "MAXIMUM", "MINIMUM", "SQUARED_DIFFERENCE"])
@pytest.mark.parametrize("shapes", SHAPES)
def test_binary_broadcast(op_type, shapes):
    check(op_type, [rand(shapes[0], 3), rand(shapes[1], 4)], live=(0, 1))


def test_pow():
    check("POW", [rand((3, 4), 5, low=0.1, high=3), rand((4,), 6, low=-2, high=2)], live=(0, 1))


@pytest.mark.parametrize("op_type", ["FLOOR_DIV", "FLOOR_MOD"])
@pytest.mark.parametrize("dtype", ["float32", "int32"])
def test_floor_div_mod_signs(op_type, dtype):
    a = np.array([7, -7, 7, -7, 6, -6, 0, 5], dtype)
    b = np.array([2, 2, -2, -2, 3, -4, 3, 7], dtype)
    check(op_type, [a, b], live=(0, 1))
    check(op_type, [rand((3, 5), 7, dtype, -20, 20), np.array([3, -4, 5, -6, 7], dtype)], live=(0, 1))


def test_int_div_truncates():
    a = np.array([7, -7, 7, -7, 1, -1], np.int32)
    b = np.array([2, 2, -2, -2, 3, 3], np.int32)
    (y,) = check("DIV", [a, b], live=(0, 1))
    np.testing.assert_array_equal(y, [3, -3, -3, 3, 0, 0])


@pytest.mark.parametrize("op_type", ["ADD", "SUB", "MUL", "MAXIMUM", "MINIMUM"])
def test_int32_arithmetic(op_type):
    check(op_type, [rand((3, 4), 8, "int32", -50, 50), rand((4,), 9, "int32", -50, 50)], live=(0, 1))


def test_add_n():
    check("ADD_N", [rand((2, 3), 10), rand((2, 3), 11), rand((2, 3), 12)], live=(0, 1, 2))


UNARY = {"SQRT": (0, 9), "RSQRT": (0.1, 9), "EXP": (-5, 5), "LOG": (0.01, 9), "NEG": (-5, 5), "ABS": (-5, 5),
         "SIN": (-7, 7), "COS": (-7, 7), "SQUARE": (-5, 5), "SIGN": (-2, 2), "FLOOR": (-5, 5), "CEIL": (-5, 5)}


@pytest.mark.parametrize("op_type", sorted(UNARY))
def test_unary(op_type):
    low, high = UNARY[op_type]
    x = rand((3, 4, 5), 13, low=low, high=high)
    if op_type == "SIGN":
        x.flat[:2] = 0
    check(op_type, [x])


def test_round_half_to_even():
    x = np.array([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 0.49999997, 1.2, -1.7], np.float32)
    (y,) = check("ROUND", [x])
    np.testing.assert_array_equal(y, [-2, -2, -0, 0, 2, 2, 0, 1, -2])


@pytest.mark.parametrize("op_type", ["EQUAL", "NOT_EQUAL", "LESS", "LESS_EQUAL", "GREATER", "GREATER_EQUAL"])
@pytest.mark.parametrize("dtype", ["float32", "int32"])
def test_comparisons(op_type, dtype):
    a, b = rand((3, 4), 14, dtype, -2, 2), rand((4,), 15, dtype, -2, 2)
    check(op_type, [a, b], live=(0, 1), out_dtypes=["bool"])


@pytest.mark.parametrize("op_type", ["LOGICAL_AND", "LOGICAL_OR"])
def test_logical_binary(op_type):
    check(op_type, [rand((3, 4), 16, "bool"), rand((1, 4), 17, "bool")], live=(0, 1))


def test_logical_not():
    check("LOGICAL_NOT", [rand((3, 4), 18, "bool")])
