"""Bias correction: quantizing weights shifts each output channel's mean by (W_q - W) . E[x]; subtracting
that from the bias removes the shift (Nagel et al., "Data-Free Quantization", section 4.2, with E[x] measured
on the calibration data instead of inferred from BatchNorm).

E[x] is the per-channel mean of the op's float input; zero padding at borders is ignored (it only matters
for the outermost pixels). One function per weighted op, keyed by op type.
"""
from __future__ import annotations

import numpy as np


def _conv(op, dw: np.ndarray, mean: np.ndarray) -> np.ndarray:
    """Grouped too: output channel o reads input channels g*Cg .. (g+1)*Cg - 1, g = o // (O / groups)."""
    cout, _, _, cg = dw.shape
    groups = mean.size // cg
    per_group = mean.reshape(groups, cg)[np.arange(cout) // (cout // groups)]
    return np.einsum("ohwi,oi->o", dw, per_group)


def _depthwise(op, dw: np.ndarray, mean: np.ndarray) -> np.ndarray:
    """Output channel c*M + m filters input channel c."""
    return np.einsum("hwc,c->c", dw[0], np.repeat(mean, dw.shape[3] // mean.size))


def _fully_connected(op, dw: np.ndarray, mean: np.ndarray) -> np.ndarray:
    return dw @ mean


SHIFT = {"CONV_2D": _conv, "DEPTHWISE_CONV_2D": _depthwise, "FULLY_CONNECTED": _fully_connected}


def corrected_bias(op, bias: np.ndarray, w: np.ndarray, w_quantized: np.ndarray, mean: np.ndarray | None):
    """The bias that cancels the mean output shift of quantized weights (bias unchanged when the op type or
    the input mean is not known)."""
    fn = SHIFT.get(op.type)
    if fn is None or mean is None:
        return bias
    shift = fn(op, w_quantized.astype(np.float64) - w.astype(np.float64), np.asarray(mean, np.float64))
    return (np.asarray(bias, np.float64) - shift).astype(np.float32)
