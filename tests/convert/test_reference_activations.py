"""Activation ops against ai-edge-litert's reference kernels (tolerance 1e-5 relative), on seeded inputs that
cover both signs, the clamp points and large magnitudes."""
import numpy as np
import pytest

from oracles import check, rand


def wide(shape, seed):
    x = rand(shape, seed, low=-8, high=8)
    x.flat[:8] = [-1.0, 0.0, 1.0, 6.0, -3.0, 3.0, 40.0, -40.0]  # clamp points and saturation
    return x


@pytest.mark.parametrize("op_type", ["RELU", "RELU6", "RELU_N1_TO_1", "RELU_0_TO_1", "LOGISTIC", "TANH",
                                     "HARD_SWISH", "ELU"])
def test_unary_activation(op_type):
    check(op_type, [wide((2, 5, 7, 3), 1)])


@pytest.mark.parametrize("alpha", [0.2, -0.5, 1.5])
def test_leaky_relu(alpha):
    check("LEAKY_RELU", [wide((3, 17), 2)], {"alpha": alpha})


@pytest.mark.parametrize("alpha_shape", [(4,), (1, 1, 4), (5, 6, 4), (1, 6, 1)])
def test_prelu_alpha_broadcast(alpha_shape):
    check("PRELU", [wide((2, 5, 6, 4), 3), rand(alpha_shape, 4, low=-1, high=1)])


@pytest.mark.parametrize("approximate", [False, True])
def test_gelu(approximate):
    check("GELU", [wide((4, 33), 5)], {"approximate": approximate})


@pytest.mark.parametrize("shape,beta", [((3, 10), 1.0), ((2, 4, 7), 0.5), ((1, 1), 1.0), ((5, 1000), 2.0)])
def test_softmax(shape, beta):
    (y,) = check("SOFTMAX", [wide(shape, 6)], {"beta": beta})
    np.testing.assert_allclose(y.sum(-1), 1, atol=1e-5)


@pytest.mark.parametrize("shape", [(3, 10), (2, 4, 7)])
def test_log_softmax(shape):
    check("LOG_SOFTMAX", [wide(shape, 7)])
