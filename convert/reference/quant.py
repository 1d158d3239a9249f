"""Conversions between float and affine-quantized integers: DEQUANTIZE and QUANTIZE.

real = scale * (q - zero_point), per tensor or per channel along `quant.axis`."""
from __future__ import annotations

import numpy as np

from edgepress.errors import EdgepressError

from .numeric import out_dtype, round_half_away


def _params(op, tensor, rank):
    """scale and zero point shaped to broadcast against a tensor of `rank` dims."""
    q = tensor.quant
    if q is None:
        raise EdgepressError(f"{op.type} ({op.label}): tensor '{tensor.name}' has no quantization parameters")
    shape = [1] * rank
    if q.per_axis:
        shape[q.axis] = -1
    return q.scale.astype(np.float64).reshape(shape), q.zero_point.reshape(shape)


def dequantize(op, x):
    if x.dtype.kind == "f":
        return x.astype(np.float32)
    scale, zero = _params(op, op.inputs[0], x.ndim)
    # (q - zp) * scale is exact in float64 and rounds once to float32, as TFLite's kernels round.
    return ((x.astype(np.int64) - zero) * scale).astype(np.float32)


def quantize(op, x):
    """Round half away from zero (TfLiteRound), add the zero point, clamp to the output type.

    An integer input is requantized through its real value; TFLite's fixed-point multiplier can round the
    other way on exact ties."""
    real = dequantize(op, x) if x.dtype.kind in "iu" else x.astype(np.float32)
    scale, zero = _params(op, op.outputs[0], x.ndim)
    dtype = out_dtype(op)
    info = np.iinfo(dtype)
    # TFLite divides in float32: a value on a tie in float32 can lie off it in float64.
    q = round_half_away(real / scale.astype(np.float32)) + zero
    return np.clip(q, info.min, info.max).astype(dtype)


OPS = {
    "DEQUANTIZE": dequantize,
    "QUANTIZE": quantize,
}
