"""Elementwise ops: broadcasting arithmetic (with fused activations), unary math, comparisons, logic."""
from __future__ import annotations

import numpy as np

from .activations import apply_fused


def _is_int(a):
    return np.asarray(a).dtype.kind in "iu"


def div(a, b):
    """Integer DIV truncates toward zero, as C++ `/` does in TFLite's kernel."""
    if _is_int(a) and _is_int(b):
        q = np.abs(a) // np.abs(b)
        return np.where((a < 0) != (b < 0), -q, q)
    return a / b


def floor_div(a, b):
    if _is_int(a) and _is_int(b):
        return np.floor_divide(a, b)
    return np.floor(np.asarray(a, np.float64) / b).astype(np.result_type(a, b))


def floor_mod(a, b):
    """fmod, then shifted by the divisor when the remainder's sign differs from the divisor's."""
    r = np.fmod(a, b)
    return np.where((r != 0) & ((r < 0) != (b < 0)), r + b, r)


def _fused_binary(fn):
    return lambda op, a, b: apply_fused(op, fn(a, b))


def _plain(fn):
    return lambda op, *xs: fn(*xs)


ARITHMETIC = {
    "ADD": np.add,
    "SUB": np.subtract,
    "MUL": np.multiply,
    "DIV": div,
    "POW": np.power,
    "SQUARED_DIFFERENCE": lambda a, b: np.square(a - b),
    "MAXIMUM": np.maximum,
    "MINIMUM": np.minimum,
    "FLOOR_DIV": floor_div,
    "FLOOR_MOD": floor_mod,
}

COMPARISONS = {
    "EQUAL": np.equal,
    "NOT_EQUAL": np.not_equal,
    "LESS": np.less,
    "LESS_EQUAL": np.less_equal,
    "GREATER": np.greater,
    "GREATER_EQUAL": np.greater_equal,
    "LOGICAL_AND": np.logical_and,
    "LOGICAL_OR": np.logical_or,
}

UNARY = {
    "SQRT": np.sqrt,
    "RSQRT": lambda x: 1 / np.sqrt(x),
    "EXP": np.exp,
    "LOG": np.log,
    "NEG": np.negative,
    "ABS": np.abs,
    "SIN": np.sin,
    "COS": np.cos,
    "SQUARE": np.square,
    "SIGN": np.sign,
    "FLOOR": np.floor,
    "CEIL": np.ceil,
    "ROUND": np.round,  # ties to even, like TFLite's RoundToNearest
    "LOGICAL_NOT": np.logical_not,
}


def add_n(op, *xs):
    total = xs[0]
    for x in xs[1:]:
        total = total + x
    return total


OPS = {
    **{name: _fused_binary(fn) for name, fn in ARITHMETIC.items()},
    **{name: _plain(fn) for name, fn in {**COMPARISONS, **UNARY}.items()},
    "ADD_N": add_n,
}
