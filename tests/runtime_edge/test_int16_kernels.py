"""Quantized kernels that int16x8 (and int8) models from edgepress.quantize need, vs ai-edge-litert: int16
RELU, RELU6, LEAKY_RELU, LOGISTIC, TANH, SOFTMAX, MEAN, SUM, REDUCE_MAX/MIN, MAXIMUM/MINIMUM, ABS,
BATCH_MATMUL (16x16 and 16x8) and TRANSPOSE_CONV (16x8); and the int8 kernels added with them: TRANSPOSE_CONV,
BATCH_MATMUL, PRELU, SQUARED_DIFFERENCE, MAXIMUM/MINIMUM, SUM, REDUCE_MAX/MIN, ABS, RSQRT, ELU, GELU,
LOG_SOFTMAX, L2_NORMALIZATION (with its float32 kernel).

Oracles (kernel_harness.check): TFLite's reference kernels and its builtin kernels without delegates, every
output compared in LSB of its quantized type. Exact (0 LSB) except:
  - int16 LOGISTIC / TANH: 1 LSB vs the reference kernels. Both interpolate a 256-entry sigmoid table in 0.16
    fixed point; ours is computed as round(65536 sigmoid(i / 24)), TFLite ships a table rounded differently in
    44 entries. For a power-of-two input scale TFLite's builtin kernel switches to gemmlowp's polynomial (up to
    11 LSB from its own reference kernel), so that case is checked against the reference kernels only.
  - SUM (int8, int16): 1 LSB vs the builtin kernel, whose optimized sum rounds differently; TFLite's reference SUM
    reads int8/int16 data as uint8 (a TFLite bug), so it is not an oracle here.
  - ELU has no reference kernel in TFLite; the builtin kernel is the oracle (exact).
"""
import numpy as np
import pytest

from kernel_harness import assert_close, build, check, const, edge_run, finalize, inp, out, rand

S16 = (2, 5, 6, 16)


def weights_s8(rng, shape):
    w = rand(rng, shape, "int8")
    w[w == -128] = -127
    return w


def check_one_oracle(op, inputs, outputs, feeds, options, resolver, lsb):
    model, ref = finalize(op, inputs, outputs, options, 1, feeds, resolver)
    for threads in (1, 2):
        for i, (a, b) in enumerate(zip(edge_run(model, feeds, threads), ref)):
            assert_close(a, b, lsb, f"{op} output {i} threads={threads} vs {resolver} kernels")


# ---- int16 activations ----

@pytest.mark.parametrize("op,in_scale,out_scale", [("RELU", 4e-4, 3e-4), ("RELU", 1e-3, 1e-3), ("RELU6", 4e-4, 2e-4),
                                                   ("RELU6", 1e-4, 5e-4)])
def test_relu_s16(op, in_scale, out_scale):
    x = rand(np.random.default_rng(10), S16, "int16")
    check(op, [inp(S16, "int16", in_scale)], [out("int16", out_scale)], [x])


def test_leaky_relu_s16():
    x = rand(np.random.default_rng(11), S16, "int16")
    check("LEAKY_RELU", [inp(S16, "int16", 4e-4)], [out("int16", 3e-4)], [x], {"alpha": 0.2})


@pytest.mark.parametrize("op", ["LOGISTIC", "TANH"])
@pytest.mark.parametrize("in_scale", [4e-4, 1e-3, 1.2e-4])
def test_logistic_tanh_s16(op, in_scale):
    x = rand(np.random.default_rng(12), S16, "int16")
    check(op, [inp(S16, "int16", in_scale)], [out("int16", 1 / 32768)], [x], lsb=1, builtin_lsb=1)


@pytest.mark.parametrize("op,in_scale", [("LOGISTIC", 2 ** -12), ("TANH", 2 ** -12), ("TANH", 2 ** -11)])
def test_logistic_tanh_s16_power_of_two_scale(op, in_scale):
    x = rand(np.random.default_rng(13), S16, "int16")
    check_one_oracle(op, [inp(S16, "int16", in_scale)], [out("int16", 1 / 32768)], [x], None, "ref", 1)


@pytest.mark.parametrize("in_scale,beta", [(4e-4, 1.0), (2e-3, 1.0), (1e-4, 1.0), (1e-3, 0.5)])
def test_softmax_s16(in_scale, beta):
    rng = np.random.default_rng(14)
    x = rand(rng, S16, "int16")
    check("SOFTMAX", [inp(S16, "int16", in_scale)], [out("int16", 1 / 32768)], [x], {"beta": beta})
    wide = rand(rng, (3, 300), "int16")  # long rows: the sum's normalization shifts differ
    check("SOFTMAX", [inp(wide.shape, "int16", in_scale)], [out("int16", 1 / 32768)], [wide], {"beta": beta})


# ---- reductions ----

AXES = [([1, 2], True), ([3], False), ([0, 2], True), ([1], False), ([0, 1, 2, 3], False)]


@pytest.mark.parametrize("axes,keep", AXES)
def test_mean_s16(axes, keep):
    x = rand(np.random.default_rng(15), S16, "int16")
    check("MEAN", [inp(S16, "int16", 4e-4), const(np.array(axes, np.int32))], [out("int16", 3e-4)], [x],
          {"keep_dims": keep})


@pytest.mark.parametrize("axes,keep", AXES)
@pytest.mark.parametrize("dtype,in_q,out_q", [("int16", (4e-4, 0), (1e-2, 0)), ("int8", (0.04, 3), (0.5, -4))])
def test_sum(axes, keep, dtype, in_q, out_q):
    x = rand(np.random.default_rng(16), S16, dtype)
    check_one_oracle("SUM", [inp(S16, dtype, *in_q), const(np.array(axes, np.int32))], [out(dtype, *out_q)], [x],
                     {"keep_dims": keep}, "builtin", 1)


@pytest.mark.parametrize("op", ["REDUCE_MAX", "REDUCE_MIN"])
@pytest.mark.parametrize("dtype,q", [("int16", (0.04, 0)), ("int8", (0.04, 3))])
@pytest.mark.parametrize("axes,keep", AXES[:3])
def test_reduce_max_min(op, dtype, q, axes, keep):
    x = rand(np.random.default_rng(17), S16, dtype)
    check(op, [inp(S16, dtype, *q), const(np.array(axes, np.int32))], [out(dtype, *q)], [x], {"keep_dims": keep})


# ---- elementwise ----

@pytest.mark.parametrize("op", ["MAXIMUM", "MINIMUM"])
@pytest.mark.parametrize("dtype,q", [("int16", (1e-3, 0)), ("int8", (0.02, -3))])
def test_maximum_minimum(op, dtype, q):
    rng = np.random.default_rng(18)
    x, y = rand(rng, S16, dtype), rand(rng, (1, 1, 6, 16), dtype)
    check(op, [inp(S16, dtype, *q), inp(y.shape, dtype, *q)], [out(dtype, *q)], [x, y])


@pytest.mark.parametrize("dtype,in_q,out_q", [("int8", (0.02, -3), (0.015, -128)), ("int8", (0.02, -3), (0.02, -128)),
                                              ("int16", (1e-3, 0), (8e-4, 0))])
def test_abs(dtype, in_q, out_q):
    x = rand(np.random.default_rng(19), S16, dtype)
    check("ABS", [inp(S16, dtype, *in_q)], [out(dtype, *out_q)], [x])


def test_squared_difference_s8():
    rng = np.random.default_rng(20)
    x, y = rand(rng, S16, "int8"), rand(rng, (1, 1, 1, 16), "int8")
    check("SQUARED_DIFFERENCE", [inp(S16, "int8", 0.02, -3), inp(y.shape, "int8", 0.03, 5)],
          [out("int8", 0.01, -128)], [x, y])


@pytest.mark.parametrize("alpha_shape", [(1, 1, 16), (16,), S16[1:]])
def test_prelu_s8(alpha_shape):
    rng = np.random.default_rng(21)
    x, alpha = rand(rng, S16, "int8"), rand(rng, alpha_shape, "int8")
    check("PRELU", [inp(S16, "int8", 0.02, -3), const(alpha, scale=0.004, zero_point=2)], [out("int8", 0.015, -20)],
          [x])


@pytest.mark.parametrize("in_scale,out_scale", [(0.01, 0.05), (0.001, 0.3), (0.05, 0.02)])
def test_rsqrt_s8(in_scale, out_scale):
    x = np.random.default_rng(22).integers(-20, 128, S16).astype(np.int8)  # at or above the zero point
    check("RSQRT", [inp(S16, "int8", in_scale, -20)], [out("int8", out_scale, -128)], [x])


@pytest.mark.parametrize("op,options", [("ELU", None), ("GELU", {"approximate": False}),
                                        ("GELU", {"approximate": True})])
def test_table_activations_s8(op, options):
    x = rand(np.random.default_rng(23), S16, "int8")
    check(op, [inp(S16, "int8", 0.03, 5)], [out("int8", 0.02, -60)], [x], options)


@pytest.mark.parametrize("in_scale", [0.02, 0.1, 0.005])
def test_log_softmax_s8(in_scale):
    x = rand(np.random.default_rng(24), S16, "int8")
    check("LOG_SOFTMAX", [inp(S16, "int8", in_scale, 5)], [out("int8", 16 / 256, 127)], [x])


@pytest.mark.parametrize("in_scale", [0.02, 0.004])
def test_l2_normalization_s8(in_scale):
    x = rand(np.random.default_rng(25), S16, "int8")
    check("L2_NORMALIZATION", [inp(S16, "int8", in_scale, 5)], [out("int8", 1 / 128, 0)], [x])


def test_l2_normalization_f32():
    x = rand(np.random.default_rng(26), S16)
    x[0, 0, 0] = 0.0  # a zero row divides by the epsilon
    check("L2_NORMALIZATION", [inp(S16)], [out()], [x])


# ---- matrix products ----

@pytest.mark.parametrize("x_type,y_type", [("int8", "int8"), ("int16", "int16"), ("int16", "int8")])
@pytest.mark.parametrize("adj_x,adj_y", [(False, False), (True, True), (False, True)])
def test_batch_matmul_quantized(x_type, y_type, adj_x, adj_y):
    rng = np.random.default_rng(27)
    x_shape = (2, 24, 7) if adj_x else (2, 7, 24)
    y_shape = (9, 24) if adj_y else (24, 9)
    x = rand(rng, x_shape, x_type)
    x_q = (0.02, 3) if x_type == "int8" else (3e-3, 0)
    out_q = (0.05, -5) if x_type == "int8" else (3e-3, 0)
    options = {"adj_x": adj_x, "adj_y": adj_y}
    if y_type == "int8":
        # constant weights, as the quantizer writes them (16x8: int16 activations times int8 weights)
        check("BATCH_MATMUL", [inp(x_shape, x_type, *x_q), const(weights_s8(rng, y_shape), scale=0.01)],
              [out(x_type, *out_q)], [x], options)
    else:
        y = rand(rng, (2,) + y_shape, y_type)  # two activations, as in attention
        check("BATCH_MATMUL", [inp(x_shape, x_type, *x_q), inp(y.shape, y_type, 5e-4)], [out(x_type, *out_q)],
              [x, y], options)


@pytest.mark.parametrize("dtype", ["int8", "int16"])
@pytest.mark.parametrize("padding,stride,act", [("SAME", 2, "NONE"), ("VALID", 1, "RELU"), ("SAME", 1, "RELU6")])
def test_transpose_conv_quantized(dtype, padding, stride, act):
    rng = np.random.default_rng(28)
    x = rand(rng, (1, 5, 6, 8), dtype)
    w, ws = weights_s8(rng, (6, 3, 3, 8)), rng.uniform(0.002, 0.02, 6)
    in_q = (0.05, 3) if dtype == "int8" else (1e-3, 0)
    bias = rng.integers(-2000, 2000, 6).astype(np.int32 if dtype == "int8" else np.int64)
    out_h, out_w = (5 * stride, 6 * stride) if padding == "SAME" else ((5 - 1) * stride + 3, (6 - 1) * stride + 3)
    out_q = (0.08, -7) if dtype == "int8" else (2e-3, 0)
    check("TRANSPOSE_CONV", [const(np.array([1, out_h, out_w, 6], np.int32)), const(w, scale=ws),
                             inp(x.shape, dtype, *in_q), const(bias, scale=ws * in_q[0])], [out(dtype, *out_q)],
          [x], {"padding": padding, "stride_h": stride, "stride_w": stride, "fused_activation_function": act})


@pytest.mark.parametrize("op", ["RELU", "LOGISTIC", "SOFTMAX"])
def test_int16_zero_point_is_rejected(op):
    # int16 activations are symmetric (TFLite rejects a nonzero zero point too): a clear error, not a guess.
    model = build(op, [inp(S16, "int16", 1e-3, 3)], [out("int16", 1 / 32768, shape=S16)])
    with pytest.raises(RuntimeError, match="zero point 0"):
        edge_run(model, [rand(np.random.default_rng(29), S16, "int16")])
