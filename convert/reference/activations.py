"""Activation ops, and the fused activation every op with `fused_activation_function` applies."""
from __future__ import annotations

import math

import numpy as np

from edgepress.errors import EdgepressError


def relu(x):
    return np.maximum(x, 0)


def relu6(x):
    return np.clip(x, 0, 6)


def relu_n1_to_1(x):
    return np.clip(x, -1, 1)


FUSED = {"NONE": lambda x: x, "RELU": relu, "RELU6": relu6, "RELU_N1_TO_1": relu_n1_to_1, "TANH": np.tanh}


def apply_fused(op, x: np.ndarray) -> np.ndarray:
    """The op's fused activation (its clamp in TFLite), applied to its float or integer result."""
    name = op.options.get("fused_activation_function", "NONE")
    fn = FUSED.get(name)
    if fn is None:
        raise EdgepressError(f"{op.type} ({op.label}): fused activation {name} has no reference implementation")
    return fn(x)


def logistic(op, x):
    # Both branches divide by 1 + e with e <= 1, so large |x| neither overflows nor warns.
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


def leaky_relu(op, x):
    return np.where(x > 0, x, x * np.float32(op.options["alpha"]))


def prelu(op, x, alpha):
    return np.where(x >= 0, x, x * alpha)


def hard_swish(op, x):
    return x * np.clip(x + 3, 0, 6) / 6


def elu(op, x):
    return np.where(x < 0, np.expm1(x), x)


_ERFC = np.vectorize(math.erfc, otypes=[np.float64])


def gelu(op, x):
    if op.options["approximate"]:
        return 0.5 * x * (1 + np.tanh(np.float32(math.sqrt(2 / math.pi)) * (x + np.float32(0.044715) * x * x * x)))
    # TFLite writes the exact form with erfc, which stays accurate for large negative x.
    return (0.5 * x * _ERFC(x.astype(np.float64) * -math.sqrt(0.5))).astype(x.dtype)


def softmax(op, x):
    z = (x - np.max(x, axis=-1, keepdims=True)) * np.float32(op.options["beta"])
    e = np.exp(z)
    return e / np.sum(e, axis=-1, keepdims=True)


def log_softmax(op, x):
    z = x - np.max(x, axis=-1, keepdims=True)
    return z - np.log(np.sum(np.exp(z), axis=-1, keepdims=True))


OPS = {
    "RELU": lambda op, x: relu(x),
    "RELU6": lambda op, x: relu6(x),
    "RELU_N1_TO_1": lambda op, x: relu_n1_to_1(x),
    "RELU_0_TO_1": lambda op, x: np.clip(x, 0, 1),
    "LEAKY_RELU": leaky_relu,
    "PRELU": prelu,
    "LOGISTIC": logistic,
    "TANH": lambda op, x: np.tanh(x),
    "HARD_SWISH": hard_swish,
    "ELU": elu,
    "GELU": gelu,
    "SOFTMAX": softmax,
    "LOG_SOFTMAX": log_softmax,
}
