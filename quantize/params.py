"""Quantization parameters by TFLite's rules, and values quantized with them.

Activations: per tensor, asymmetric for int8/uint8 (real 0 exactly representable), symmetric with zero point 0
for int16. Weights: int8 symmetric in [-127, 127] with zero point 0, per channel along the op's output axis.
Biases: int32 (int64 for int16 activations), zero point 0, scale = input scale x weight scale per channel.
"""
from __future__ import annotations

import numpy as np

from edgepress.convert.ir import QuantParams
from edgepress.convert.reference.numeric import round_half_away

LIMITS = {"int8": (-128, 127), "uint8": (0, 255), "int16": (-32768, 32767), "int32": (-2**31, 2**31 - 1),
          "int64": (-2**63, 2**63 - 1)}
WEIGHT_MAX = 127  # symmetric int8 weights use [-127, 127] so that -w is representable
GRID_TOLERANCE = 1e-3  # in steps, see on_grid


def activation_params(lo: float, hi: float, dtype: str, min_scale: float = 0.0) -> QuantParams:
    """Per-tensor parameters covering [lo, hi] widened to include 0 (so zero padding is exact) and, where
    min_scale asks for a coarser step, widened on its larger side until the scale reaches it.

    The calibrated range is not stored as QuantizationParameters.min/max: no kernel reads them, and they
    would cost every quantized tensor two more vectors in the file."""
    lo, hi = min(float(lo), 0.0), max(float(hi), 0.0)
    qmin, qmax = LIMITS[dtype]
    if dtype == "int16":
        scale = np.float32(max(max(-lo, hi) / qmax, min_scale))
        return _nonzero(QuantParams(scale, 0))
    missing = min_scale * (qmax - qmin) - (hi - lo)
    if missing > 0:
        lo, hi = (lo, hi + missing) if hi >= -lo else (lo - missing, hi)
    scale = np.float32((hi - lo) / (qmax - qmin))
    if scale == 0:
        return QuantParams(1.0, qmin)
    zero = int(np.clip(round_half_away(np.float64(qmin) - lo / np.float64(scale)), qmin, qmax))
    return QuantParams(scale, zero)


def _nonzero(q: QuantParams) -> QuantParams:
    # A tensor that is always 0 still needs a positive scale; any will do.
    q.scale = np.where(q.scale > 0, q.scale, np.float32(1.0)).astype(np.float32)
    return q


def channel_absmax(w: np.ndarray, axis: int) -> np.ndarray:
    """The largest |w| of each channel along `axis`."""
    return np.max(np.abs(np.moveaxis(w, axis, 0).reshape(w.shape[axis], -1)), axis=1)


def weight_params(w: np.ndarray, axis: int | None) -> QuantParams:
    """Symmetric int8 parameters, per channel along `axis` (None: one scale for the whole tensor)."""
    w = np.asarray(w, np.float32)
    if axis is None:
        amax = np.array([np.max(np.abs(w))]) if w.size else np.zeros(1)
    else:
        amax = channel_absmax(w, axis)
    scale = (amax / WEIGHT_MAX).astype(np.float32)
    step = np.float32(np.max(amax, initial=0.0) / WEIGHT_MAX)
    if axis is not None and step > 0 and on_grid(w, step):
        scale = np.full_like(scale, step)
    q = QuantParams(scale, np.zeros(scale.size, np.int64), axis=axis or 0)
    return _nonzero(q)


def on_grid(w: np.ndarray, step: np.float32) -> bool:
    """Whether every weight is an integer multiple of one step: weights a source quantized per tensor (a QDQ
    model's, dequantized exactly) keep that grid rather than move to per-channel ones. Float32 rounding of
    q * scale is far below GRID_TOLERANCE steps, which float weights never all meet."""
    k = w.astype(np.float64) / np.float64(step)
    return bool(np.all(np.abs(k - np.rint(k)) <= GRID_TOLERANCE))


def quantize_array(x: np.ndarray, q: QuantParams, dtype: str, narrow: bool = False) -> np.ndarray:
    """Round half away from zero and clamp, as TFLite's QUANTIZE kernel does; narrow uses [-127, 127]."""
    x = np.asarray(x, np.float64)
    shape = [1] * x.ndim
    if q.per_axis:
        shape[q.axis] = -1
    scale = q.scale.astype(np.float64).reshape(shape)
    zero = q.zero_point.reshape(shape)
    qmin, qmax = LIMITS[dtype]
    if narrow:
        qmin = -qmax
    return np.clip(round_half_away(x / scale) + zero, qmin, qmax).astype(dtype)


def dequantize_array(x: np.ndarray, q: QuantParams) -> np.ndarray:
    shape = [1] * x.ndim
    if q.per_axis:
        shape[q.axis] = -1
    return ((x.astype(np.int64) - q.zero_point.reshape(shape)) * q.scale.astype(np.float64).reshape(shape)
            ).astype(np.float32)


def bias_params(input_q: QuantParams, weight_q: QuantParams) -> QuantParams:
    """scale = input scale x weight scale (per channel), zero point 0, along axis 0 of the 1-D bias."""
    scale = (np.float64(input_q.scale[0]) * weight_q.scale.astype(np.float64)).astype(np.float32)
    return QuantParams(scale, np.zeros(scale.size, np.int64), axis=0)


def quantize_bias(b: np.ndarray, q: QuantParams, dtype: str) -> np.ndarray:
    """Biases are rounded to nearest; the per-tensor case broadcasts one scale over every channel."""
    b = np.asarray(b, np.float64)
    scale = q.scale.astype(np.float64)
    qmin, qmax = LIMITS[dtype]
    return np.clip(round_half_away(b / scale), qmin, qmax).astype(dtype)
