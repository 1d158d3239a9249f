"""Integer-quantized ops (int8, uint8, int16 activations): TFLite's reference integer kernels.

The evaluator uses OPS_QUANTIZED[op.type] instead of the float function when `is_quantized(op)`; ops that only
move values (RESHAPE, TRANSPOSE, GATHER, PAD, MAXIMUM, ...) need no entry, their float functions work on the
integers unchanged. Linear ops accumulate exactly in integers and rescale with TFLite's fixed-point multiplier
(QuantizeMultiplier, MultiplyByQuantizedMultiplier), so they match TFLite's reference kernels bit for bit.
Nonlinear ops (what TFLite computes with lookup tables of the real function) go through real values: dequantize,
the float function, round to the output's parameters.
"""
from __future__ import annotations

import copy
import math

import numpy as np

from . import activations, conv, linear, pooling, resize
from .numeric import round_half_away
from .window import patches

INTEGER = ("int8", "uint8", "int16")
LIMITS = {"int8": (-128, 127), "uint8": (0, 255), "int16": (-32768, 32767)}


def quantized_reference(op):
    """The function the evaluator runs for `op` when it is integer-quantized (OPS_QUANTIZED) or a hybrid op
    (OPS_HYBRID: float activations, int8 weights); None when the float function applies."""
    if op.type in ("QUANTIZE", "DEQUANTIZE"):
        return None
    if any(_is_int(t) and not t.is_constant for t in op.inputs):
        return OPS_QUANTIZED.get(op.type)
    if any(_is_int(t) and t.is_constant for t in op.inputs) and any(
            t is not None and t.dtype == "float32" and not t.is_constant for t in op.inputs):
        return OPS_HYBRID.get(op.type)
    return None


def _is_int(t) -> bool:
    return t is not None and t.dtype in INTEGER and t.quant is not None


# -- TFLite's fixed-point arithmetic (int64 NumPy arrays holding int32 values) -----------------------------
def quantize_multiplier(m: float) -> tuple[int, int]:
    """A positive real multiplier as a Q31 integer and a power-of-two exponent (QuantizeMultiplier)."""
    if m == 0:
        return 0, 0
    frac, shift = math.frexp(m)
    q = int(round_half_away(np.float64(frac) * (1 << 31)))
    if q == 1 << 31:
        q //= 2
        shift += 1
    if shift < -31:
        return 0, 0
    if shift > 30:
        return (1 << 31) - 1, 30
    return q, shift


def _trunc_div(x, d):
    """C++ integer division: rounds toward zero."""
    q = np.abs(x) // d
    return np.where(x < 0, -q, q)


def rounding_doubling_high_mul(a, b):
    """SaturatingRoundingDoublingHighMul: (a * b * 2 + 2^31 rounding) >> 32, saturating INT32_MIN^2."""
    a, b = np.asarray(a, np.int64), np.asarray(b, np.int64)
    ab = a * b
    nudge = np.where(ab >= 0, 1 << 30, 1 - (1 << 30))
    out = _trunc_div(ab + nudge, 1 << 31)
    return np.where((a == -2**31) & (b == -2**31), 2**31 - 1, out)


def rounding_divide_by_pot(x, exponent):
    """x / 2^exponent rounded half away from zero (RoundingDivideByPOT)."""
    x, exponent = np.asarray(x, np.int64), np.asarray(exponent, np.int64)
    mask = (np.int64(1) << exponent) - 1
    threshold = (mask >> 1) + (x < 0)
    return (x >> exponent) + ((x & mask) > threshold)


def multiply_by_quantized_multiplier(x, multiplier, shift):
    shift = np.asarray(shift, np.int64)
    left, right = np.maximum(shift, 0), np.maximum(-shift, 0)
    return rounding_divide_by_pot(rounding_doubling_high_mul(np.asarray(x, np.int64) << left, multiplier), right)


def multiply_by_quantized_multiplier_wide(x, multiplier, shift):
    """The int64-accumulator form (int16x8 kernels): a 16-bit multiplier and one rounding shift."""
    multiplier, shift = np.asarray(multiplier, np.int64), np.asarray(shift, np.int64)
    reduced = np.where(multiplier < 0x7FFF0000, (multiplier + (1 << 15)) >> 16, 0x7FFF)
    total = 15 - shift
    out = (np.asarray(x, np.int64) * reduced + (np.int64(1) << (total - 1))) >> total
    return np.clip(out, -2**31, 2**31 - 1)


def multipliers(real: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    pairs = [quantize_multiplier(float(m)) for m in np.ravel(real)]
    return np.array([p[0] for p in pairs], np.int64), np.array([p[1] for p in pairs], np.int64)


# -- parameters -----------------------------------------------------------------------------------------
def _q(t):
    return float(t.quant.scale[0]), int(t.quant.zero_point[0])


def activation_range(op, out) -> tuple[int, int]:
    """The integer clamp of the op's fused activation on its output's parameters
    (CalculateActivationRangeQuantized: zero_point + round(value / scale), float division)."""
    qmin, qmax = LIMITS[out.dtype]
    scale, zero = np.float32(out.quant.scale[0]), int(out.quant.zero_point[0])

    def level(v):
        return zero + int(round_half_away(np.float32(v) / scale))

    act = op.options.get("fused_activation_function", "NONE")
    if act in ("RELU", "RELU6"):
        qmin = max(qmin, level(0.0))
    if act == "RELU6":
        qmax = min(qmax, level(6.0))
    if act == "RELU_N1_TO_1":
        qmin, qmax = max(qmin, level(-1.0)), min(qmax, level(1.0))
    return qmin, qmax


def _unfused(op):
    """The op without its fused activation: integer kernels clamp instead of applying it."""
    plain = copy.copy(op)
    plain.options = {**op.options, "fused_activation_function": "NONE"}
    return plain


def _finish(op, acc):
    out = op.outputs[0]
    lo, hi = activation_range(op, out)
    return np.clip(acc, lo, hi).astype(out.dtype)


# -- linear ops: exact integer accumulation, per-channel requantization ---------------------------------
def _accumulate(fn, op, x, w, x_index: int, w_index: int, arrange):
    """Sum of (x - x_zero) * (w - w_zero) through the float function in float64, exact for any realistic
    size (each term is below 2^23, so sums stay exact up to 2^30 terms)."""
    wq = op.inputs[w_index].quant
    x_zero = int(op.inputs[x_index].quant.zero_point[0])
    w_zero = 0 if wq.per_axis else int(wq.zero_point[0])  # per-channel weights have zero point 0
    xs = x.astype(np.float64) - x_zero
    ws = w.astype(np.float64) - w_zero
    return np.rint(fn(_unfused(op), *arrange(xs, ws))).astype(np.int64)


def _requantize(op, acc, bias, x_index: int, w_index: int, wide: bool = False):
    """acc + bias rescaled per output channel. `wide`: the int64-accumulator rescale TFLite's int16
    convolutions and BATCH_MATMUL use; its int16 FULLY_CONNECTED rescales an int32 accumulator."""
    x, w, out = op.inputs[x_index], op.inputs[w_index], op.outputs[0]
    if bias is not None:
        acc = acc + bias.astype(np.int64)
    real = (np.float64(x.quant.scale[0]) * w.quant.scale.astype(np.float64)) / np.float64(out.quant.scale[0])
    mult, shift = multipliers(real)
    if wide and out.dtype == "int16":
        scaled = multiply_by_quantized_multiplier_wide(acc, mult, shift)
    else:
        scaled = multiply_by_quantized_multiplier(np.clip(acc, -2**31, 2**31 - 1), mult, shift)
    return _finish(op, scaled + int(out.quant.zero_point[0]))


def conv_2d(op, x, w, bias=None):
    acc = _accumulate(conv.conv_2d, op, x, w, 0, 1, lambda xs, ws: (xs, ws))
    return _requantize(op, acc, bias, 0, 1, wide=True)


def depthwise_conv_2d(op, x, w, bias=None):
    acc = _accumulate(conv.depthwise_conv_2d, op, x, w, 0, 1, lambda xs, ws: (xs, ws))
    return _requantize(op, acc, bias, 0, 1, wide=True)


def transpose_conv(op, output_shape, w, x, bias=None):
    acc = _accumulate(conv.transpose_conv, op, x, w, 2, 1, lambda xs, ws: (output_shape, ws, xs))
    return _requantize(op, acc, bias, 2, 1, wide=True)


def fully_connected(op, x, w, bias=None):
    acc = _accumulate(linear.fully_connected, op, x, w, 0, 1, lambda xs, ws: (xs, ws))
    return _requantize(op, acc, bias, 0, 1)


def batch_matmul(op, x, y):
    acc = _accumulate(linear.batch_matmul, op, x, y, 0, 1, lambda xs, ys: (xs, ys))
    return _requantize(op, acc, None, 0, 1, wide=True)


# -- elementwise arithmetic ---------------------------------------------------------------------------------
def _add_sub(sign: int):
    """TFLite's quantized ADD/SUB: both inputs shifted left (20 bits for 8-bit types, 15 for int16), scaled to
    twice the larger input scale, summed, and rescaled to the output."""
    def fn(op, a, b):
        (sa, za), (sb, zb), (so, zo) = _q(op.inputs[0]), _q(op.inputs[1]), _q(op.outputs[0])
        left = 15 if op.outputs[0].dtype == "int16" else 20
        twice_max = 2 * max(np.float64(sa), np.float64(sb))
        ma, ea = quantize_multiplier(np.float64(sa) / twice_max)
        mb, eb = quantize_multiplier(np.float64(sb) / twice_max)
        mo, eo = quantize_multiplier(twice_max / ((1 << left) * np.float64(so)))
        xa = multiply_by_quantized_multiplier((a.astype(np.int64) - za) << left, ma, ea)
        xb = multiply_by_quantized_multiplier((b.astype(np.int64) - zb) << left, mb, eb)
        return _finish(op, multiply_by_quantized_multiplier(xa + sign * xb, mo, eo) + zo)
    return fn


def mul(op, a, b):
    (sa, za), (sb, zb), (so, zo) = _q(op.inputs[0]), _q(op.inputs[1]), _q(op.outputs[0])
    m, e = quantize_multiplier(np.float64(sa) * np.float64(sb) / np.float64(so))
    prod = (a.astype(np.int64) - za) * (b.astype(np.int64) - zb)
    return _finish(op, multiply_by_quantized_multiplier(prod, m, e) + zo)


# -- pooling ------------------------------------------------------------------------------------------------
def max_pool_2d(op, x):
    return _finish(op, pooling.max_pool_2d(_unfused(op), x.astype(np.float64)))


def average_pool_2d(op, x):
    """Integer sum over the in-bounds pixels, divided by their count rounding half away from zero."""
    o = op.options
    win = ((o["filter_height"], o["filter_width"]), (o["stride_h"], o["stride_w"]), (1, 1), o["padding"])
    total = patches(x.astype(np.int64), *win).sum(axis=(3, 4))
    count = patches(np.ones((1,) + x.shape[1:3] + (1,), np.int64), *win).sum(axis=(3, 4))
    half = count // 2
    return _finish(op, np.where(total > 0, (total + half) // count, -((-total + half) // count)))


# -- reductions ------------------------------------------------------------------------------------------
def _reduced(op, x, axes):
    axes = tuple(sorted({int(a) % x.ndim for a in np.ravel(axes)}))
    count = int(np.prod([x.shape[a] for a in axes]))
    return axes, max(count, 1), op.options["keep_dims"]


def mean(op, x, axes):
    """TFLite's two integer MEANs: over H and W of a 4-D tensor, an integer sum rescaled with a fixed-point
    multiplier then divided rounding half away from zero; any other axes, the float mean of the raw values
    rescaled in float (QuantizedMeanOrSum)."""
    axes, count, keep = _reduced(op, x, axes)
    (si, zi), (so, zo) = _q(op.inputs[0]), _q(op.outputs[0])
    if x.ndim == 4 and axes == (1, 2):
        acc = np.sum(x.astype(np.int64) - zi, axis=axes, keepdims=keep)
        m, e = quantize_multiplier(np.float64(si) / np.float64(so))
        acc = multiply_by_quantized_multiplier(acc, m, e)
        half = count // 2
        acc = np.where(acc > 0, (acc + half) // count, -((-acc + half) // count))
        return _finish(op, acc + zo)
    total = np.sum(x.astype(np.int64), axis=axes, keepdims=keep)
    scale = np.float32(si) / np.float32(so)
    bias = np.float32(-zi) * scale
    average = total.astype(np.float32) / np.float32(count)
    return _finish(op, round_half_away(average * scale + bias) + zo)


def sum_(op, x, axes):
    """QuantizedMeanOrSum's sum: raw integer sum, rescaled in float with the zero point of every term."""
    axes, count, keep = _reduced(op, x, axes)
    (si, zi), (so, zo) = _q(op.inputs[0]), _q(op.outputs[0])
    total = np.sum(x.astype(np.int64), axis=axes, keepdims=keep)
    scale = np.float32(si) / np.float32(so)
    bias = np.float32(-zi) * scale * np.float32(count)
    return _finish(op, round_half_away(total.astype(np.float32) * scale + bias) + zo)


# -- everything else: through real values -----------------------------------------------------------------
def _real(t, v):
    if t is None or t.quant is None or v.dtype.kind not in "iu" or t.dtype not in INTEGER:
        return v
    return ((v.astype(np.int64) - t.quant.zero_point[0]) * np.float32(t.quant.scale[0])).astype(np.float32)


def via_real(fn):
    """Dequantize the inputs, run the float function, round to the output's parameters and clamp."""
    def quantized(op, *xs):
        reals = [None if x is None else _real(t, x) for t, x in zip(op.inputs, xs)]
        y = np.asarray(fn(_unfused(op), *reals), np.float64)
        out = op.outputs[0]
        if out.dtype not in INTEGER:
            return y
        scale, zero = _q(out)
        return _finish(op, round_half_away(y / np.float32(scale)) + zero)
    return quantized


def concatenation(op, *xs):
    """Inputs with other parameters than the output are rescaled in float: round(q * s + b) + z_out
    (ConcatenationWithScaling)."""
    so, zo = _q(op.outputs[0])
    parts = []
    for t, x in zip(op.inputs, xs):
        si, zi = _q(t)
        if (si, zi) == (so, zo):
            parts.append(x.astype(np.int64))
            continue
        scale = np.float32(si) * (np.float32(1) / np.float32(so))
        parts.append(round_half_away(x.astype(np.float32) * scale + np.float32(-zi) * scale).astype(np.int64) + zo)
    axis = op.options["axis"] % xs[0].ndim
    return _finish(op, np.concatenate(parts, axis=axis))


OPS_QUANTIZED = {
    "CONV_2D": conv_2d,
    "DEPTHWISE_CONV_2D": depthwise_conv_2d,
    "TRANSPOSE_CONV": transpose_conv,
    "FULLY_CONNECTED": fully_connected,
    "BATCH_MATMUL": batch_matmul,
    "ADD": _add_sub(1),
    "SUB": _add_sub(-1),
    "MUL": mul,
    "MAX_POOL_2D": max_pool_2d,
    "AVERAGE_POOL_2D": average_pool_2d,
    "CONCATENATION": concatenation,
    "MEAN": mean,
    "SUM": sum_,
    **{name: via_real(fn) for name, fn in {
        **{n: activations.OPS[n] for n in ("RELU", "RELU6", "RELU_N1_TO_1", "LEAKY_RELU", "PRELU", "LOGISTIC",
                                           "TANH", "HARD_SWISH", "ELU", "GELU", "SOFTMAX", "LOG_SOFTMAX")},
        "RESIZE_BILINEAR": resize.OPS["RESIZE_BILINEAR"],
        "RSQRT": lambda op, x: 1 / np.sqrt(x),
        "ABS": lambda op, x: np.abs(x),
        "SQUARED_DIFFERENCE": lambda op, a, b: np.square(a - b),
    }.items()},
}


# -- hybrid ops (dynamic-range quantization): float activations, int8 weights --------------------------------
def _fake_quantize_rows(x: np.ndarray, asymmetric: bool) -> np.ndarray:
    """Each row (last axis) quantized to int8 and back, as hybrid kernels quantize their input on the fly:
    symmetric with scale max|x| / 127, or asymmetric over [min(x, 0), max(x, 0)]."""
    rows = x.reshape(-1, x.shape[-1]).astype(np.float32)
    if asymmetric:
        lo, hi = np.minimum(rows.min(axis=1, keepdims=True), 0), np.maximum(rows.max(axis=1, keepdims=True), 0)
        scale = np.where(hi > lo, (hi - lo) / np.float32(255), np.float32(1))
        zero = np.clip(round_half_away(np.float32(-128) - lo / scale), -128, 127)
        q = np.clip(round_half_away(rows / scale) + zero, -128, 127)
        return ((q - zero) * scale).astype(np.float32).reshape(x.shape)
    amax = np.abs(rows).max(axis=1, keepdims=True)
    scale = np.where(amax > 0, amax / np.float32(127), np.float32(1))
    return (np.clip(round_half_away(rows / scale), -127, 127) * scale).astype(np.float32).reshape(x.shape)


def _hybrid(fn, x_index: int, w_index: int, per_batch: bool):
    """Weights dequantized; the input quantized per row (per batch item for convolutions) and back."""
    def run(op, *xs):
        xs = list(xs)
        wt = op.inputs[w_index]
        shape = [1] * xs[w_index].ndim
        if wt.quant.per_axis:
            shape[wt.quant.axis] = -1
        xs[w_index] = ((xs[w_index].astype(np.int64) - wt.quant.zero_point.reshape(shape))
                       * wt.quant.scale.reshape(shape)).astype(np.float32)
        x = xs[x_index]
        rows = x.reshape(x.shape[0], -1) if per_batch else x
        asymmetric = bool(op.options.get("asymmetric_quantize_inputs", False))
        xs[x_index] = _fake_quantize_rows(rows, asymmetric).reshape(x.shape)
        return fn(op, *xs)
    return run


OPS_HYBRID = {
    "CONV_2D": _hybrid(conv.conv_2d, 0, 1, True),
    "DEPTHWISE_CONV_2D": _hybrid(conv.depthwise_conv_2d, 0, 1, True),
    "FULLY_CONNECTED": _hybrid(linear.fully_connected, 0, 1, False),
    "BATCH_MATMUL": _hybrid(linear.batch_matmul, 0, 1, False),
}
