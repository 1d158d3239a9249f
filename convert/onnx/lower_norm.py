"""ONNX normalizations -> TFLite elementwise and reduction ops.

BatchNormalization (inference) is one MUL and one ADD by per-channel constants shaped (C, 1, ...), which
the BatchNorm-folding pass merges into a preceding convolution. Instance and layer normalization compute
mean and variance with MEAN, SUB and MUL, then scale by RSQRT(variance + epsilon).
"""
from __future__ import annotations

import numpy as np

from ..ir import Tensor
from .lower_elementwise import binary


def lower_batch_norm(ctx, node):
    x = ctx.input(0)
    attrs = ctx.attrs()
    if attrs.get("training_mode", 0) or any(node.output[1:]):
        ctx.fail("training mode (running statistics outputs) is not supported; export the model for inference")
    names = ("scale", "B", "input_mean", "input_var")
    gamma, beta, mean, var = (ctx.const_input(i, what).astype(np.float64) for i, what in enumerate(names, start=1))
    eps = float(attrs.get("epsilon", 1e-5))
    scale = gamma / np.sqrt(var + eps)
    shift = beta - mean * scale
    channel = (-1,) + (1,) * (x.rank - 2)
    affine(ctx, x, scale.astype(x.dtype).reshape(channel), shift.astype(x.dtype).reshape(channel), node.output[0])


def affine(ctx, x: Tensor, scale: np.ndarray | None, shift: np.ndarray | None, out: str) -> None:
    """x * scale + shift, leaving out a multiply by ones and an add of zeros."""
    scale = None if scale is None or np.all(scale == 1) else scale
    shift = None if shift is None or np.all(shift == 0) else shift
    if scale is None and shift is None:
        ctx.bind(out, x)
        return
    y = x if scale is None else binary(ctx, "MUL", x, ctx.const(scale, hint="scale"),
                                       out=out if shift is None else None)
    if shift is not None:
        binary(ctx, "ADD", y, ctx.const(shift, hint="shift"), out=out)


def moments(ctx, x: Tensor, axes: list, eps: float) -> tuple[Tensor, Tensor, Tensor]:
    """(mean, x - mean, 1 / sqrt(variance + eps)) over `axes`, keeping reduced dims as 1."""
    kept = tuple(1 if i in axes else d for i, d in enumerate(x.shape))
    axes_t = ctx.const(np.array(axes, np.int32), hint="axes")
    mean = ctx.emit("MEAN", [x, axes_t], {"keep_dims": True}, shape=kept)
    centered = binary(ctx, "SUB", x, mean)
    # centered * centered rather than SQUARED_DIFFERENCE(x, mean): the difference is computed once, and
    # tflite-runtime 2.14 aborts on SQUARED_DIFFERENCE broadcasting in 5-D.
    var = ctx.emit("MEAN", [binary(ctx, "MUL", centered, centered), axes_t], {"keep_dims": True}, shape=kept)
    shifted = binary(ctx, "ADD", var, ctx.const(np.array(eps, x.dtype), hint="epsilon"))
    inv_std = ctx.emit("RSQRT", [shifted], shape=kept)
    return mean, centered, inv_std


def lower_instance_norm(ctx, node):
    """(x - mean) * (gamma / sqrt(var + eps)) + beta per sample and channel; gamma joins the small
    (N, C, 1, ...) factor before it meets the full-size tensor."""
    x = ctx.input(0)
    gamma, beta = ctx.const_input(1, "scale"), ctx.const_input(2, "B")
    channel = (-1,) + (1,) * (x.rank - 2)
    _, centered, inv_std = moments(ctx, x, list(range(2, x.rank)), float(ctx.attrs().get("epsilon", 1e-5)))
    factor = binary(ctx, "MUL", inv_std, ctx.const(gamma.reshape(channel), hint="scale"))
    y = binary(ctx, "MUL", centered, factor)
    affine(ctx, y, None, beta.reshape(channel), node.output[0])


def lower_layer_norm(ctx, node):
    """Normalize over axes axis..rank-1; the optional Mean and InvStdDev outputs are the intermediates."""
    x, scale, bias = ctx.input(0), ctx.input(1), ctx.input(2)
    attrs = ctx.attrs()
    axis = int(attrs.get("axis", -1))
    axis = axis + x.rank if axis < 0 else axis
    mean, centered, inv_std = moments(ctx, x, list(range(axis, x.rank)), float(attrs.get("epsilon", 1e-5)))
    outputs = list(node.output) + ["", ""]
    for name, t in ((outputs[1], mean), (outputs[2], inv_std)):
        if name:
            ctx.bind(name, t)
    out = outputs[0]
    unit_scale = scale.data is not None and np.all(scale.data == 1)
    zero_bias = bias is None or (bias.data is not None and np.all(bias.data == 0))
    y = binary(ctx, "MUL", centered, inv_std, out=out if unit_scale and zero_bias else None)
    if not unit_scale:
        y = binary(ctx, "MUL", y, scale, out=out if zero_bias else None)
    if not zero_bias:
        binary(ctx, "ADD", y, bias, out=out)


LOWERINGS = {
    "BatchNormalization": lower_batch_norm,
    "InstanceNormalization": lower_instance_norm,
    "LayerNormalization": lower_layer_norm,
}
