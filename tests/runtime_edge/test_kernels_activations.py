"""Activation kernels vs ai-edge-litert: float32, and int8 in TFLite's integer arithmetic (requantized
RELU family, LEAKY_RELU, table-driven LOGISTIC/TANH, fixed-point HARD_SWISH), which must match exactly."""
import numpy as np
import pytest

from kernel_harness import check, const, inp, out, rand

FLOAT_OPS = [("RELU", {}), ("RELU6", {}), ("RELU_N1_TO_1", {}), ("LEAKY_RELU", {"alpha": 0.2}), ("LOGISTIC", {}),
             ("TANH", {}), ("HARD_SWISH", {}), ("ELU", {}), ("GELU", {"approximate": False}),
             ("GELU", {"approximate": True})]


@pytest.mark.parametrize("op,options", FLOAT_OPS)
def test_activation_f32(op, options):
    rng = np.random.default_rng(50)
    x = rand(rng, (2, 5, 7, 9), low=-8.0, high=8.0)
    check(op, [inp(x.shape)], [out()], [x], options)


def test_prelu_f32_per_channel_alpha():
    rng = np.random.default_rng(51)
    x, alpha = rand(rng, (1, 6, 7, 16)), rand(rng, (1, 1, 16), low=0.0, high=0.5)
    check("PRELU", [inp(x.shape), const(alpha)], [out()], [x])


S8_OPS = [
    # (op, options, input (scale, zp), output (scale, zp))
    ("RELU", {}, (0.05, 10), (0.03, -128)),
    ("RELU6", {}, (0.05, 10), (6 / 255, -128)),
    ("RELU_N1_TO_1", {}, (0.02, -5), (2 / 255, 0)),
    ("LEAKY_RELU", {"alpha": 0.1}, (0.04, 3), (0.03, -20)),
    ("LOGISTIC", {}, (0.06, -7), (1 / 256, -128)),
    ("TANH", {}, (0.03, 4), (1 / 128, 0)),
    ("HARD_SWISH", {}, (0.05, -12), (0.04, -90)),
    ("HARD_SWISH", {}, (0.2, 30), (0.02, -100)),
]


@pytest.mark.parametrize("op,options,qin,qout", S8_OPS)
def test_activation_s8(op, options, qin, qout):
    rng = np.random.default_rng(52)
    x = rand(rng, (3, 11, 17), "int8")
    check(op, [inp(x.shape, "int8", *qin)], [out("int8", *qout)], [x], options)
