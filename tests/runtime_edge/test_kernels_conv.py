"""CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED kernels vs ai-edge-litert (float32, int8, 16x8).

Quantized FULLY_CONNECTED equals TFLite's optimized kernel bit for bit; TFLite's own reference FC kernel
rounds its requantization once instead of twice and so differs from both by 1 LSB on rare ties.

Sizes straddle the GEMM tiles (4x8 micro-tiles, 64-pixel im2col blocks, 16-channel output panels) and
exercise padding, strides, dilation, groups, depth multipliers, missing biases and non-constant weights.
"""
import numpy as np
import pytest

from kernel_harness import check, const, inp, out, rand


def conv_options(padding="SAME", stride=(1, 1), dilation=(1, 1), act="NONE"):
    return {"padding": padding, "stride_h": stride[0], "stride_w": stride[1], "dilation_h_factor": dilation[0],
            "dilation_w_factor": dilation[1], "fused_activation_function": act}


def per_channel_weights(rng, shape, axis):
    w = rand(rng, shape, "int8")
    w[w == -128] = -127  # the quantization spec keeps int8 weights symmetric
    scales = rng.uniform(0.002, 0.02, shape[axis])
    return w, scales


CONV_F32 = [
    # (input NHWC, filter OHWI, stride, dilation, padding, activation)
    ((1, 9, 9, 5), (7, 3, 3, 5), (2, 2), (1, 1), "SAME", "RELU"),
    ((2, 8, 10, 8), (9, 3, 3, 8), (1, 1), (1, 1), "VALID", "NONE"),
    ((1, 17, 13, 3), (16, 5, 3, 3), (2, 1), (1, 1), "SAME", "RELU6"),
    ((1, 12, 12, 4), (8, 3, 3, 4), (1, 1), (2, 2), "SAME", "RELU_N1_TO_1"),
    ((1, 11, 9, 17), (33, 1, 1, 17), (1, 1), (1, 1), "VALID", "NONE"),  # 1x1: input used as the matrix
    ((3, 5, 7, 64), (1, 1, 1, 64), (2, 2), (1, 1), "SAME", "NONE"),
]


@pytest.mark.parametrize("x_shape,w_shape,stride,dilation,padding,act", CONV_F32)
def test_conv_f32(x_shape, w_shape, stride, dilation, padding, act):
    rng = np.random.default_rng(1)
    x, w, b = rand(rng, x_shape), rand(rng, w_shape), rand(rng, (w_shape[0],))
    check("CONV_2D", [inp(x.shape), const(w), const(b)], [out()], [x],
          conv_options(padding, stride, dilation, act))


def test_conv_f32_weights_computed_at_run_time():
    # Filters that are graph inputs (as after a float16 DEQUANTIZE) are packed at every run.
    rng = np.random.default_rng(2)
    x, w, b = rand(rng, (1, 10, 10, 6)), rand(rng, (12, 3, 3, 6)), rand(rng, (12,))
    check("CONV_2D", [inp(x.shape), inp(w.shape), inp(b.shape)], [out()], [x, w, b], conv_options())


def test_conv_f32_grouped():
    rng = np.random.default_rng(3)
    x, w, b = rand(rng, (1, 8, 8, 12)), rand(rng, (9, 3, 3, 4)), rand(rng, (9,))
    check("CONV_2D", [inp(x.shape), const(w), const(b)], [out()], [x], conv_options())


CONV_S8 = [
    ((1, 9, 9, 5), (7, 3, 3, 5), (2, 2), "SAME", "RELU", True),
    ((2, 10, 7, 16), (17, 3, 3, 16), (1, 1), "VALID", "NONE", True),
    ((1, 8, 8, 9), (8, 1, 1, 9), (1, 1), "SAME", "RELU6", False),
]


@pytest.mark.parametrize("x_shape,w_shape,stride,padding,act,per_channel", CONV_S8)
def test_conv_s8(x_shape, w_shape, stride, padding, act, per_channel):
    rng = np.random.default_rng(4)
    x = rand(rng, x_shape, "int8")
    w, ws = per_channel_weights(rng, w_shape, 0)
    if not per_channel:
        ws = ws[:1]
    in_scale = 0.05
    b = rng.integers(-2000, 2000, w_shape[0]).astype(np.int32)
    check("CONV_2D", [inp(x.shape, "int8", in_scale, 3), const(w, scale=ws), const(b, scale=ws * in_scale)],
          [out("int8", 0.08, -7)], [x], conv_options(padding, stride, act=act))


def test_conv_16x8():
    rng = np.random.default_rng(5)
    x = rand(rng, (2, 13, 11, 24), "int16")
    w, ws = per_channel_weights(rng, (20, 3, 3, 24), 0)
    b = rng.integers(-50000, 50000, 20).astype(np.int64)
    check("CONV_2D", [inp(x.shape, "int16", 0.002, 0), const(w, scale=ws), const(b, scale=ws * 0.002)],
          [out("int16", 0.004, 0)], [x], conv_options(stride=(2, 1)))


DW = [
    # (input, depth multiplier, kernel, stride, dilation, padding, activation)
    ((1, 9, 9, 8), 1, (3, 3), (1, 1), (1, 1), "SAME", "RELU6"),
    ((2, 10, 7, 3), 2, (3, 3), (2, 2), (1, 1), "VALID", "NONE"),
    ((1, 12, 12, 17), 1, (5, 5), (2, 2), (1, 1), "SAME", "RELU"),
    ((1, 8, 8, 4), 1, (3, 3), (1, 1), (2, 2), "SAME", "NONE"),
]


@pytest.mark.parametrize("x_shape,mult,kernel,stride,dilation,padding,act", DW)
def test_depthwise_f32(x_shape, mult, kernel, stride, dilation, padding, act):
    rng = np.random.default_rng(6)
    c = x_shape[3] * mult
    x, w, b = rand(rng, x_shape), rand(rng, (1, *kernel, c)), rand(rng, (c,))
    check("DEPTHWISE_CONV_2D", [inp(x.shape), const(w), const(b)], [out()], [x],
          {**conv_options(padding, stride, dilation, act), "depth_multiplier": mult})


@pytest.mark.parametrize("x_shape,mult,kernel,stride,dilation,padding,act", DW[:3])
def test_depthwise_s8(x_shape, mult, kernel, stride, dilation, padding, act):
    rng = np.random.default_rng(7)
    c = x_shape[3] * mult
    x = rand(rng, x_shape, "int8")
    w, ws = per_channel_weights(rng, (1, *kernel, c), 3)
    b = rng.integers(-2000, 2000, c).astype(np.int32)
    check("DEPTHWISE_CONV_2D", [inp(x.shape, "int8", 0.04, -2), const(w, scale=ws, axis=3),
                                const(b, scale=ws * 0.04)],
          [out("int8", 0.05, 4)], [x], {**conv_options(padding, stride, dilation, act), "depth_multiplier": mult})


def test_depthwise_16x8():
    rng = np.random.default_rng(8)
    x = rand(rng, (2, 12, 12, 24), "int16")
    w, ws = per_channel_weights(rng, (1, 3, 3, 24), 3)
    b = rng.integers(-50000, 50000, 24).astype(np.int64)
    check("DEPTHWISE_CONV_2D", [inp(x.shape, "int16", 0.001, 0), const(w, scale=ws, axis=3),
                                const(b, scale=ws * 0.001)],
          [out("int16", 0.003, 0)], [x], {**conv_options(), "depth_multiplier": 1})


FC = [
    # (input shape, units, keep_num_dims, activation)
    ((1, 37), 17, False, "NONE"),
    ((3, 4, 16), 8, True, "RELU"),
    ((70, 9), 33, False, "RELU6"),  # enough rows to split the batch across threads
    ((2, 3, 5), 7, False, "NONE"),   # flattened to [6, 5]
]


@pytest.mark.parametrize("x_shape,units,keep,act", FC)
def test_fully_connected_f32(x_shape, units, keep, act):
    rng = np.random.default_rng(9)
    x, w, b = rand(rng, x_shape), rand(rng, (units, x_shape[-1])), rand(rng, (units,))
    check("FULLY_CONNECTED", [inp(x.shape), const(w), const(b)], [out()], [x],
          {"fused_activation_function": act, "keep_num_dims": keep})


def test_fully_connected_f32_weights_at_run_time():
    rng = np.random.default_rng(10)
    x, w = rand(rng, (5, 24)), rand(rng, (10, 24))
    check("FULLY_CONNECTED", [inp(x.shape), inp(w.shape), None], [out()], [x, w], {})


@pytest.mark.parametrize("x_shape,units,keep,act", FC[:3])
@pytest.mark.parametrize("per_channel", [False, True])
def test_fully_connected_s8(x_shape, units, keep, act, per_channel):
    rng = np.random.default_rng(11)
    x = rand(rng, x_shape, "int8")
    w, ws = per_channel_weights(rng, (units, x_shape[-1]), 0)
    if not per_channel:
        ws = ws[:1]
    b = rng.integers(-3000, 3000, units).astype(np.int32)
    check("FULLY_CONNECTED", [inp(x.shape, "int8", 0.03, 5), const(w, scale=ws), const(b, scale=ws * 0.03)],
          [out("int8", 0.06, -3)], [x], {"fused_activation_function": act, "keep_num_dims": keep},
          lsb=1, builtin_lsb=0)


def test_fully_connected_16x8():
    rng = np.random.default_rng(12)
    x = rand(rng, (64, 40), "int16")
    w, ws = per_channel_weights(rng, (50, 40), 0)
    b = rng.integers(-50000, 50000, 50).astype(np.int64)
    check("FULLY_CONNECTED", [inp(x.shape, "int16", 0.001, 0), const(w, scale=ws[:1]), const(b, scale=ws[:1] * 0.001)],
          [out("int16", 0.002, 0)], [x], {})
