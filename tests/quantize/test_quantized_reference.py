"""Our int8/int16 reference ops against ai-edge-litert on the same quantized op: TFLite's reference kernels
and its default kernels (XNNPACK where it takes the op) agree with ours within 1 LSB; the linear ops
(fixed-point requantization) match the reference kernels exactly."""
import numpy as np
import pytest

from edgepress.convert.ir import Op, Tensor

from qoracle import litert, lsb_difference, ours, qtensor, random_int

X_SCALE, X_ZERO = 0.05, -3


def act(name, shape, dtype="int8", scale=X_SCALE, zero=X_ZERO):
    """int16 tensors get 256x finer steps: the same real range as the int8 ones."""
    if dtype == "int16":
        return qtensor(name, shape, dtype, scale / 256, 0)
    return qtensor(name, shape, dtype, scale, zero)


def out(dtype="int8", scale=0.11, zero=7):
    if dtype == "int16":
        return qtensor("y", (), dtype, scale / 256, 0)
    return qtensor("y", (), dtype, scale, zero)


def weights(shape, axis, seed):
    scales = np.linspace(0.004, 0.02, shape[axis]).astype(np.float32)
    return qtensor(f"w{seed}", shape, "int8", scales, 0, data=random_int(shape, "int8", seed, -127, 127), axis=axis)


def bias(x, w, dtype, seed):
    scales = (np.float64(x.quant.scale[0]) * w.quant.scale).astype(np.float32)
    data = random_int(scales.shape, dtype, seed, -3000, 3000)
    return qtensor(f"b{seed}", scales.shape, dtype, scales, 0, data=data)


def conv(dtype="int8", depthwise=False, **options):
    x = act("x", (1, 9, 8, 4), dtype)
    w = weights((1, 3, 3, 8), 3, 1) if depthwise else weights((6, 3, 3, 4), 0, 1)
    opts = {"padding": "SAME", "stride_h": 2, "stride_w": 1, **options}
    if depthwise:
        opts["depth_multiplier"] = 2
    op = Op("DEPTHWISE_CONV_2D" if depthwise else "CONV_2D", [x, w, bias(x, w, BIAS[dtype], 2)],
            [out(dtype, 0.3)], opts)
    return op, [random_int(x.shape, dtype, 3)]


BIAS = {"int8": "int32", "int16": "int64"}


def fully_connected(dtype="int8"):
    x = act("x", (3, 20), dtype)
    w = weights((7, 20), 0, 4)
    return Op("FULLY_CONNECTED", [x, w, bias(x, w, BIAS[dtype], 5)], [out(dtype, 0.2)]), [random_int(x.shape, dtype, 6)]


def transpose_conv(dtype="int8"):
    x = act("x", (1, 4, 5, 3), dtype)
    w = weights((5, 3, 3, 3), 0, 7)
    shape = Tensor.constant("shape", np.array([1, 8, 10, 5], np.int32))
    op = Op("TRANSPOSE_CONV", [shape, w, x, bias(x, w, BIAS[dtype], 8)], [out(dtype, scale=0.05)],
            {"padding": "SAME", "stride_h": 2, "stride_w": 2})
    return op, [random_int(x.shape, dtype, 9)]


def batch_matmul(dtype="int8"):
    a, b = act("a", (2, 3, 6), dtype), act("b", (2, 6, 4), dtype, scale=0.03, zero=5)
    return Op("BATCH_MATMUL", [a, b], [out(dtype, scale=0.5)]), \
        [random_int(a.shape, dtype, 10), random_int(b.shape, dtype, 11)]


def binary(op_type, dtype="int8", **options):
    a, b = act("a", (2, 5, 4), dtype), act("b", (1, 5, 1), dtype, scale=0.031, zero=9)
    return Op(op_type, [a, b], [out(dtype, 0.07 if op_type != "MUL" else 0.2)], options), \
        [random_int(a.shape, dtype, 12), random_int(b.shape, dtype, 13)]


def pool(op_type, dtype="int8"):
    x = act("x", (1, 7, 6, 3), dtype)
    q = out(dtype, X_SCALE, X_ZERO)
    return Op(op_type, [x], [q], {"padding": "SAME", "filter_height": 3, "filter_width": 2, "stride_h": 2,
                                  "stride_w": 2}), [random_int(x.shape, dtype, 14)]


def concatenation(dtype):
    """int8 kernels need one set of parameters (the pass shares them); uint8 ones rescale each input."""
    zero = 128 if dtype == "uint8" else 0
    a, b, c = (act(n, s, dtype, scale=k, zero=z + zero) for n, s, k, z in (
        ("a", (1, 3, 2), 0.11, 7), ("b", (1, 3, 4), 0.11 if dtype == "int8" else 0.08, 7 if dtype == "int8" else 10),
        ("c", (1, 3, 1), 0.11 if dtype == "int8" else 0.2, 7)))
    return Op("CONCATENATION", [a, b, c], [out(dtype, zero=7 + zero)], {"axis": 2}), \
        [random_int(t.shape, dtype, 15 + i) for i, t in enumerate((a, b, c))]


FIXED = {"LOGISTIC": (1 / 256, -128), "TANH": (1 / 128, 0), "SOFTMAX": (1 / 256, -128), "LOG_SOFTMAX": (16 / 256, 127)}


def unary(op_type, dtype="int8", scale=0.11, zero=7, **options):
    x = act("x", (2, 3, 10), dtype)
    if op_type in FIXED and dtype == "int8":
        scale, zero = FIXED[op_type]
    y = out(dtype, scale, zero)
    if dtype == "int16" and op_type in ("LOGISTIC", "TANH", "SOFTMAX"):
        y = qtensor("y", (), "int16", 1 / 32768, 0)
    return Op(op_type, [x], [y], options), [random_int(x.shape, dtype, 20)]


def reduction(op_type, shape, axes, keep_dims, dtype="int8"):
    x = act("x", shape, dtype)
    axes = Tensor.constant("axes", np.array(axes, np.int32))
    return Op(op_type, [x, axes], [out(dtype, scale=0.02 if op_type == "MEAN" else 0.3, zero=-1)],
              {"keep_dims": keep_dims}), [random_int(x.shape, dtype, 21)]


def resize_bilinear(half_pixel):
    x = act("x", (1, 4, 5, 3))
    size = Tensor.constant("size", np.array([7, 9], np.int32))
    return Op("RESIZE_BILINEAR", [x, size], [out(scale=X_SCALE, zero=X_ZERO)],
              {"half_pixel_centers": half_pixel}), [random_int(x.shape, "int8", 22)]


# case id -> (builder, maximum difference in LSB from TFLite's reference kernels)
CASES = {
    "conv": (lambda: conv(), 0),
    "conv_relu6_dilated": (lambda: conv(fused_activation_function="RELU6", padding="VALID", dilation_h_factor=2), 0),
    "conv_int16": (lambda: conv("int16"), 0),
    "depthwise": (lambda: conv(depthwise=True, fused_activation_function="RELU"), 0),
    "depthwise_int16": (lambda: conv("int16", depthwise=True), 0),
    "fully_connected": (fully_connected, 0),
    "fully_connected_int16": (lambda: fully_connected("int16"), 0),
    "transpose_conv": (transpose_conv, 0),
    "transpose_conv_int16": (lambda: transpose_conv("int16"), 0),
    "batch_matmul": (batch_matmul, 0),
    "batch_matmul_int16": (lambda: batch_matmul("int16"), 0),
    "add": (lambda: binary("ADD", fused_activation_function="RELU"), 0),
    "sub": (lambda: binary("SUB"), 0),
    "mul": (lambda: binary("MUL"), 0),
    "add_int16": (lambda: binary("ADD", "int16", pot_scale_int16=False), 0),
    "max_pool": (lambda: pool("MAX_POOL_2D"), 0),
    "average_pool": (lambda: pool("AVERAGE_POOL_2D"), 0),
    "average_pool_int16": (lambda: pool("AVERAGE_POOL_2D", "int16"), 0),
    "concatenation": (lambda: concatenation("int8"), 0),
    "concatenation_uint8_rescaled": (lambda: concatenation("uint8"), 0),
    "mean_hw": (lambda: reduction("MEAN", (1, 5, 6, 4), [1, 2], True), 0),
    "mean_hw_squeezed": (lambda: reduction("MEAN", (2, 5, 6, 4), [2, 1], False), 0),
    "mean_last_axis": (lambda: reduction("MEAN", (2, 3, 10), [-1], False), 0),
    "sum": (lambda: reduction("SUM", (2, 3, 10), [1], True), 0),  # see BROKEN_REFERENCE
    "resize_bilinear": (lambda: resize_bilinear(False), 1),
    "resize_bilinear_half_pixel": (lambda: resize_bilinear(True), 1),
    **{op.lower(): (lambda op=op: unary(op), 1) for op in (
        "LOGISTIC", "TANH", "LOG_SOFTMAX", "RELU", "RELU6", "HARD_SWISH", "ELU", "ABS")},
    "softmax": (lambda: unary("SOFTMAX", beta=1.0), 1),
    "leaky_relu": (lambda: unary("LEAKY_RELU", alpha=0.2), 1),
    # int16 steps are 256x finer; TFLite's int16 tables interpolate to within 2 of them
    "logistic_int16": (lambda: unary("LOGISTIC", "int16"), 2),
    "tanh_int16": (lambda: unary("TANH", "int16"), 2),
    "softmax_int16": (lambda: unary("SOFTMAX", "int16", beta=1.0), 2),
}


# TFLite's reference SUM reads int8 data as uint8 (its sum of -1 is 255); its default kernel sums int8 and
# is the oracle for this op.
BROKEN_REFERENCE = {"sum"}


def settle_shape(op, feeds):
    """Our result fixes the output shape the writer needs."""
    y = ours(op, feeds)
    op.outputs[0].shape = y.shape
    return y


@pytest.mark.parametrize("case", sorted(CASES))
def test_matches_tflite_reference_kernels(case):
    build, tolerance = CASES[case]
    op, feeds = build()
    y = settle_shape(op, feeds)
    reference = case not in BROKEN_REFERENCE
    assert lsb_difference(y, litert(op, feeds, reference_kernels=reference)) <= tolerance
    assert len(np.unique(y)) > 3  # the case exercises a real range of outputs


@pytest.mark.parametrize("case", sorted(CASES))
def test_within_one_lsb_of_default_kernels(case):
    build, tolerance = CASES[case]
    op, feeds = build()
    y = settle_shape(op, feeds)
    assert lsb_difference(y, litert(op, feeds, reference_kernels=False)) <= max(tolerance, 1)
