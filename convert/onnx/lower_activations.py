"""ONNX activations, softmax, Identity and Dropout -> TFLite ops.

Activations TFLite has as builtins map one to one; the others (HardSigmoid, Elu with alpha != 1, Selu,
Softplus, Erf) are composed from elementwise ops in the forms noted at each rule.
"""
from __future__ import annotations

import numpy as np

from .lower_elementwise import align_rank, binary, reshape, result_shape, scalar, unary

DIRECT = {"Sigmoid": "LOGISTIC", "Tanh": "TANH", "HardSwish": "HARD_SWISH"}
SOFTMAX = {"Softmax": "SOFTMAX", "LogSoftmax": "LOG_SOFTMAX"}
# Clip bounds TFLite has a fused activation for (float only).
CLIP_ACTIVATIONS = {(0.0, 6.0): "RELU6", (0.0, None): "RELU", (-1.0, 1.0): "RELU_N1_TO_1"}
# Abramowitz & Stegun 7.1.26: erf(x) = 1 - t*(a1 + t*(a2 + ... + t*a5)) * exp(-x^2), t = 1/(1 + p*x) for
# x >= 0, odd in x; |error| <= 1.5e-7 in exact arithmetic, about 6e-7 evaluated in float32.
ERF_P = 0.3275911
ERF_A = (0.254829592, -0.284496736, 1.421413741, -1.453152027, 1.061405429)
SELU_ALPHA, SELU_GAMMA = 1.67326319217681884765625, 1.05070102214813232421875


def is_float(t) -> bool:
    return t.dtype.startswith("float")


def lower_direct(ctx, node):
    unary(ctx, DIRECT[node.op_type], ctx.input(0), out=node.output[0])


def lower_relu(ctx, node):
    x = ctx.input(0)
    if is_float(x):
        unary(ctx, "RELU", x, out=node.output[0])
    else:  # TFLite RELU has no plain integer kernel
        binary(ctx, "MAXIMUM", x, scalar(ctx, 0, x, "zero"), out=node.output[0])


def lower_leaky_relu(ctx, node):
    unary(ctx, "LEAKY_RELU", ctx.input(0), out=node.output[0],
          options={"alpha": float(ctx.attrs().get("alpha", 0.01))})


def lower_prelu(ctx, node):
    x, slope = ctx.inputs()
    out = node.output[0]
    if per_channel_legacy(x, slope):
        # PRelu-6 gave a 1-D slope per channel (axis 1); the opset upgrade keeps such a slope as it is,
        # though from opset 7 on it would have to broadcast NumPy-style (which it cannot: that is the sign).
        slope = reshape(ctx, slope, slope.shape + (1,) * (x.rank - 2))
    slope = align_rank(ctx, slope, x.rank)
    if x.rank <= 4:
        binary(ctx, "PRELU", x, slope, out=out)
        return
    merged = merged_broadcast_shapes(x.shape, slope.shape)
    if merged is not None:
        # TFLite PRELU broadcasts at most 4-D, and tflite-runtime 2.14 aborts on 5-D broadcasting MUL:
        # merge adjacent axes that broadcast alike, run a 4-D PRELU, restore the shape.
        y = binary(ctx, "PRELU", reshape(ctx, x, merged[0]), reshape(ctx, slope, merged[1]))
        reshape(ctx, y, x.shape, out=out)
        return
    # Dynamic or irregular shapes: max(x, 0) + slope * min(x, 0).
    pos = binary(ctx, "MAXIMUM", x, scalar(ctx, 0, x, "zero"))
    neg = binary(ctx, "MUL", binary(ctx, "MINIMUM", x, scalar(ctx, 0, x, "zero")), slope)
    binary(ctx, "ADD", pos, neg, out=out)


def merged_broadcast_shapes(x_shape, slope_shape):
    """(x shape, slope shape) of rank <= 4 with runs of adjacent axes merged where the slope either spans
    them all or broadcasts over them all; None when dims are unknown or no such merge reaches rank 4."""
    if any(d is None for d in x_shape):
        return None
    xs, ss = [], []
    for xd, sd in zip(x_shape, slope_shape):
        if xs and (sd == 1) == (ss[-1] == 1) and (sd == xd) == (ss[-1] == xs[-1]):
            xs[-1] *= xd
            ss[-1] *= sd
        else:
            xs.append(xd)
            ss.append(sd)
    return (tuple(xs), tuple(ss)) if len(xs) <= 4 else None


def per_channel_legacy(x, slope) -> bool:
    c = slope.shape[0] if slope.rank == 1 else None
    return x.rank > 2 and c not in (None, 1, x.shape[-1]) and c == x.shape[1]


def lower_clip(ctx, node):
    x = ctx.input(0)
    out = node.output[0]
    lo, hi = (clip_bound(ctx.input(i)) for i in (1, 2))
    if lo is None and hi is None:
        ctx.bind(out, x)
        return
    key = tuple(None if t is None else float(t.data) for t in (lo, hi)) if all(
        t is None or t.data is not None for t in (lo, hi)) else None
    if is_float(x) and key in CLIP_ACTIVATIONS:
        unary(ctx, CLIP_ACTIVATIONS[key], x, out=out)
        return
    # max then min: with lo > hi every value becomes hi, as ONNX specifies.
    y = x if lo is None else binary(ctx, "MAXIMUM", x, lo, out=out if hi is None else None)
    if hi is not None:
        binary(ctx, "MINIMUM", y, hi, out=out)


def clip_bound(t):
    """A Clip bound, None when omitted or infinite (no bound at all)."""
    if t is None or (t.data is not None and np.isinf(t.data).all()):
        return None
    return t


def lower_hard_sigmoid(ctx, node):
    """max(0, min(1, alpha*x + beta)) as MUL, ADD with fused RELU, MINIMUM — the exact chain that
    lower_elementwise's Mul rule recognizes to make x * HardSigmoid(x) one HARD_SWISH."""
    x = ctx.input(0)
    a = ctx.attrs()
    scaled = binary(ctx, "MUL", x, scalar(ctx, a.get("alpha", 0.2), x, "alpha"))
    shifted = binary(ctx, "ADD", scaled, scalar(ctx, a.get("beta", 0.5), x, "beta"),
                     options={"fused_activation_function": "RELU"})
    binary(ctx, "MINIMUM", shifted, scalar(ctx, 1, x, "one"), out=node.output[0])


def elu(ctx, x, alpha: float, out=None):
    """TFLite ELU is alpha = 1; otherwise relu(x) + alpha * min(elu(x), 0)."""
    if alpha == 1.0:
        return unary(ctx, "ELU", x, out=out)
    neg = binary(ctx, "MINIMUM", unary(ctx, "ELU", x), scalar(ctx, 0, x, "zero"))
    return binary(ctx, "ADD", unary(ctx, "RELU", x), binary(ctx, "MUL", neg, scalar(ctx, alpha, x, "alpha")),
                  out=out)


def lower_elu(ctx, node):
    elu(ctx, ctx.input(0), float(ctx.attrs().get("alpha", 1.0)), out=node.output[0])


def lower_selu(ctx, node):
    x = ctx.input(0)
    a = ctx.attrs()
    y = elu(ctx, x, float(a.get("alpha", SELU_ALPHA)))
    binary(ctx, "MUL", y, scalar(ctx, a.get("gamma", SELU_GAMMA), x, "gamma"), out=node.output[0])


def lower_softplus(ctx, node):
    """log(1 + e^x) = relu(x) + log(1 + e^-|x|), which neither overflows nor loses small values."""
    x = ctx.input(0)
    e = unary(ctx, "EXP", unary(ctx, "NEG", unary(ctx, "ABS", x)))
    soft = unary(ctx, "LOG", binary(ctx, "ADD", e, scalar(ctx, 1, x, "one")))
    binary(ctx, "ADD", unary(ctx, "RELU", x), soft, out=node.output[0])


def lower_erf(ctx, node):
    x = ctx.input(0)
    one = scalar(ctx, 1, x, "one")
    den = binary(ctx, "ADD", binary(ctx, "MUL", unary(ctx, "ABS", x), scalar(ctx, ERF_P, x, "p")), one)
    t = binary(ctx, "DIV", one, den)
    poly = binary(ctx, "MUL", t, scalar(ctx, ERF_A[-1], x, "a"))
    for a in reversed(ERF_A[:-1]):
        poly = binary(ctx, "MUL", binary(ctx, "ADD", poly, scalar(ctx, a, x, "a")), t)
    gauss = unary(ctx, "EXP", unary(ctx, "NEG", binary(ctx, "MUL", x, x)))
    magnitude = binary(ctx, "SUB", one, binary(ctx, "MUL", poly, gauss))
    binary(ctx, "MUL", unary(ctx, "SIGN", x), magnitude, out=node.output[0])


def lower_gelu(ctx, node):
    approximate = ctx.attrs().get("approximate", "none")
    if approximate not in ("none", "tanh"):
        ctx.fail(f"unknown approximate='{approximate}'")
    unary(ctx, "GELU", ctx.input(0), out=node.output[0], options={"approximate": approximate == "tanh"})


def lower_softmax(ctx, node):
    """TFLite softmax works on the last axis. Opset >= 13 normalizes one axis: move it last and back.
    Before 13 the input is coerced to 2-D [prod(dims[:axis]), prod(dims[axis:])]: reshape around it."""
    x = ctx.input(0)
    out = node.output[0]
    op_type = SOFTMAX[node.op_type]
    options = {"beta": 1.0} if op_type == "SOFTMAX" else {}
    axis = ctx.attrs().get("axis", -1 if ctx.opset >= 13 else 1)
    axis = axis + x.rank if axis < 0 else axis
    if axis == x.rank - 1:
        unary(ctx, op_type, x, out=out, options=options)
    elif ctx.opset >= 13:
        perm = [*(d for d in range(x.rank) if d != axis), axis]
        y = unary(ctx, op_type, ctx.transpose(x, perm), options=options)
        ctx.transpose(y, np.argsort(perm), out=out)
    else:
        inner = x.shape[axis:]
        if None in inner:
            ctx.fail(f"opset {ctx.opset} {node.op_type} over axes {axis}.. needs their sizes; give static "
                     "input shapes with --input-shape")
        flat = reshape(ctx, x, (None, int(np.prod(inner))))
        reshape(ctx, unary(ctx, op_type, flat, options=options), result_shape(ctx, out, x.shape), out=out)


def lower_identity(ctx, node):
    ctx.bind(node.output[0], ctx.input(0))


def lower_dropout(ctx, node):
    """Inference: the output is the input; the optional mask is all true."""
    x = ctx.input(0)
    training = ctx.const_input(2, "training_mode")
    if training is not None and bool(training):
        ctx.fail("training_mode=true is not supported (inference only)")
    ctx.bind(node.output[0], x)
    if len(node.output) > 1 and node.output[1]:
        mask = node.output[1]
        if x.static:
            ctx.bind(mask, ctx.const(np.ones(x.shape, np.bool_), hint="mask"))
            return
        dims = ctx.emit("SHAPE", [x], {"out_type": "INT32"}, shape=(x.rank,), dtype="int32")
        ctx.emit("FILL", [dims, ctx.const(np.array(True), hint="true")], out=mask,
                 shape=result_shape(ctx, mask, x.shape), dtype="bool")


LOWERINGS = {
    **{k: lower_direct for k in DIRECT},
    **{k: lower_softmax for k in SOFTMAX},
    "Relu": lower_relu,
    "LeakyRelu": lower_leaky_relu,
    "PRelu": lower_prelu,
    "Clip": lower_clip,
    "HardSigmoid": lower_hard_sigmoid,
    "Elu": lower_elu,
    "Selu": lower_selu,
    "Softplus": lower_softplus,
    "Erf": lower_erf,
    "Gelu": lower_gelu,
    "Identity": lower_identity,
    "Dropout": lower_dropout,
}
