"""ONNX QuantizeLinear and DequantizeLinear (opsets 10-21) -> constants, identities, QUANTIZE and DEQUANTIZE.

QDQ models (NNCF, onnxruntime's quantizer, quantization-aware-trained exports) mark each quantized tensor with
a QuantizeLinear -> DequantizeLinear pair and keep weights as integers behind DequantizeLinear. The IR keeps
the float graph and what the pairs fix:
- either node on a constant folds to the exactly (de)quantized constant, so weights arrive as float32 values
  on the source's grid (int8 quantization finds that grid again, quantize/params.py);
- QuantizeLinear of a run-time tensor x records its range ((qmin - zp) * s, (qmax - zp) * s) in x.qdq_range,
  which int8 quantization takes (quantize/qdq.py), and becomes QUANTIZE (per tensor, as TFLite quantizes
  activations); a DequantizeLinear of it is x itself, so the QUANTIZE is dead code the optimizer removes
  unless something else reads it (an integer graph output). A range from 0 keeps its clamp as RELU6 (a range
  within [0, 6]) or RELU, since quantizers fold ReLU and Clip into such ranges (onnxruntime removes those
  nodes); the rest of what a pair does, rounding and saturation at the range's ends, is gone in a float
  conversion;
- DequantizeLinear of an integer graph input becomes DEQUANTIZE.
Integer types: int8 and uint8 at run time; int16, uint16 and int32 (biases) for constants too.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import onnx

from ..ir import QuantParams, Tensor
from .lower_elementwise import producer, unary

RUNTIME_TYPES = ("int8", "uint8")
CONSTANT_TYPES = ("int8", "uint8", "int16", "uint16", "int32")
# Ops (or fused activations) whose output is never negative.
NON_NEGATIVE = frozenset({"RELU", "RELU6", "LOGISTIC", "SOFTMAX"})
# Ops whose output stays within the bounds of their (first) input (MINIMUM: by a bound >= 0).
WITHIN_INPUT = frozenset({"MAX_POOL_2D", "AVERAGE_POOL_2D", "MEAN", "RESHAPE", "TRANSPOSE", "SQUEEZE",
                          "EXPAND_DIMS", "MINIMUM"})
# Ops that only move values: the range of their output is the range of their input.
MOVES_VALUES = frozenset({"TRANSPOSE", "RESHAPE", "SQUEEZE", "EXPAND_DIMS"})
LOOK_BACK = 8  # ops followed back through a chain


@dataclass(frozen=True)
class Affine:
    """real = (q - zero) * scale; scale and zero shaped to broadcast against the tensor (per axis or not)."""
    scale: np.ndarray  # float32
    zero: np.ndarray  # int64
    dtype: str
    per_axis: bool

    @property
    def limits(self) -> tuple[int, int]:
        info = np.iinfo(self.dtype)
        return int(info.min), int(info.max)

    def quant_params(self) -> QuantParams:
        return QuantParams(self.scale.reshape(-1), self.zero.reshape(-1))

    def real_range(self) -> tuple[float, float]:
        """The real values the integer type covers; exact in float64 (a float32 scale times a 9-bit integer),
        so quantization parameters derived from it are the source's again."""
        s, z = float(self.scale.reshape(-1)[0]), int(self.zero.reshape(-1)[0])
        qmin, qmax = self.limits
        return (qmin - z) * s, (qmax - z) * s


def affine(ctx, x: Tensor, dtype_if_no_zero: str) -> Affine:
    """The scale and zero point of a QuantizeLinear/DequantizeLinear node, checked against the spec."""
    attrs = ctx.attrs()
    if attrs.get("block_size", 0):
        ctx.fail("blocked quantization (block_size) is not supported")
    scale = ctx.const_input(1, "the scale")
    zero = ctx.const_input(2, "the zero point")
    if scale.dtype != np.float32:  # opset 19's float16 scales make float16 outputs, which TFLite graphs lack
        ctx.fail(f"scale of type {scale.dtype} is not supported (float32 only)")
    dtype = str(zero.dtype) if zero is not None else dtype_if_no_zero
    allowed = CONSTANT_TYPES if x.data is not None else RUNTIME_TYPES
    if dtype not in allowed:
        ctx.fail(f"{dtype} quantization is not supported{'' if x.data is not None else ' at run time'} "
                 f"(supported: {', '.join(allowed)})")
    zero = np.zeros_like(scale, np.int64) if zero is None else zero.astype(np.int64)
    if scale.size != zero.size or scale.ndim > 1:
        ctx.fail(f"scale {list(scale.shape)} and zero point {list(zero.shape)} must be one value or one vector "
                 "of the same length")
    if np.any(~(scale > 0)) or not np.all(np.isfinite(scale)):
        ctx.fail("scales must be finite and positive")
    per_axis = scale.ndim == 1 and scale.size > 1
    if per_axis:
        axis = int(attrs.get("axis", 1))
        if not -x.rank <= axis < x.rank or x.shape[axis] not in (None, scale.size):
            ctx.fail(f"axis {axis} of '{x.name}' {list(x.shape)} does not hold the {scale.size} scales")
        shape = [1] * x.rank
        shape[axis % x.rank] = -1
        scale, zero = scale.reshape(shape), zero.reshape(shape)
    return Affine(scale, zero, dtype, per_axis)


def default_quantized_type(ctx) -> str:
    """QuantizeLinear without a zero point outputs uint8, or opset 21's output_dtype."""
    code = ctx.attrs().get("output_dtype", 0)
    return np.dtype(onnx.helper.tensor_dtype_to_np_dtype(code)).name if code else "uint8"


def lower_quantize(ctx, node):
    x = ctx.input(0)
    if x.dtype != "float32":
        ctx.fail(f"quantizing a {x.dtype} tensor '{x.name}' is not supported (float32 only)")
    p = affine(ctx, x, default_quantized_type(ctx))
    if x.data is not None:
        # ONNX rounds x / scale (in float32) half to even and saturates.
        q = np.rint(x.data / p.scale) + p.zero
        ctx.bind(node.output[0], ctx.const(np.clip(q, *p.limits).astype(p.dtype), hint="quantized"))
        return
    if p.per_axis:
        ctx.fail(f"per-axis quantization of run-time tensor '{x.name}' is not supported (TFLite quantizes "
                 "activations per tensor)")
    record(ctx, x, p.real_range())
    q = ctx.emit("QUANTIZE", [x], out=node.output[0], shape=x.shape, dtype=p.dtype)
    q.quant = p.quant_params()


def lower_dequantize(ctx, node):
    x = ctx.input(0)
    p = affine(ctx, x, x.dtype)
    if x.dtype != p.dtype:
        ctx.fail(f"input '{x.name}' is {x.dtype} but the zero point is {p.dtype}")
    if x.data is not None:
        real = (x.data.astype(np.int64) - p.zero).astype(np.float32) * p.scale
        ctx.bind(node.output[0], ctx.const(real.astype(np.float32), hint="dequantized"))
        return
    if p.per_axis:
        ctx.fail(f"per-axis dequantization of run-time tensor '{x.name}' is not supported (TFLite quantizes "
                 "activations per tensor)")
    quantize = producer(ctx, x)
    if quantize is not None and quantize.type == "QUANTIZE" and same_params(x.quant, p):
        resolve_pair(ctx, quantize.inputs[0], p, node.output[0])
        return
    if quantize is None and x in ctx.graph.inputs and (x.quant is None or same_params(x.quant, p)):
        x.quant = p.quant_params()
        y = ctx.emit("DEQUANTIZE", [x], out=node.output[0], shape=x.shape, dtype="float32")
        y.qdq_range = p.real_range()
        return
    ctx.fail(f"cannot dequantize '{x.name}': it is neither a graph input nor quantized by a QuantizeLinear "
             "with the same scale and zero point")


def same_params(q: QuantParams | None, p: Affine) -> bool:
    return (q is not None and q.scale.size == 1 and float(q.scale[0]) == float(p.scale.reshape(-1)[0])
            and int(q.zero_point[0]) == int(p.zero.reshape(-1)[0]))


def resolve_pair(ctx, x: Tensor, p: Affine, out: str) -> None:
    """DequantizeLinear(QuantizeLinear(x)) is x, or a clamp of x for a range from 0 (see the module doc). No
    clamp where x is known to be >= 0 (the source kept its activation) or is a graph input (nothing to fold)."""
    lo, hi = p.real_range()
    # A range [0, 6] computed in float32 (scale 6/255) ends a fraction of a step above 6.
    clamp = None if lo != 0.0 else "RELU6" if hi <= 6.0 + float(p.scale.reshape(-1)[0]) / 2 else "RELU"
    if clamp is None or producer(ctx, x) is None or non_negative(ctx, x):
        ctx.bind(out, x)
        return
    y = unary(ctx, clamp, x, out=out)
    y.qdq_range = (lo, hi)


def record(ctx, x: Tensor, real_range: tuple) -> None:
    """x's range, also on the tensors a chain of value-moving ops made x from (the transposes around
    channels-last ops): passes that drop such an op keep either tensor."""
    for _ in range(LOOK_BACK):
        if x.qdq_range is not None:
            return
        x.qdq_range = real_range
        op = producer(ctx, x)
        if op is None or op.type not in MOVES_VALUES or op.inputs[0].data is not None:
            return
        x = op.inputs[0]


def non_negative(ctx, t: Tensor) -> bool:
    """Whether the ops writing `t` keep it >= 0: an activation, or ops within their input's bounds after one."""
    for _ in range(LOOK_BACK):
        op = producer(ctx, t)
        if op is None:
            return False
        if op.type in NON_NEGATIVE or op.options.get("fused_activation_function") in NON_NEGATIVE:
            return True
        bounds = [i.data for i in op.inputs[1:] if i is not None and i.data is not None]
        if op.type not in WITHIN_INPUT or (op.type == "MINIMUM" and any(b.size == 0 or b.min() < 0 for b in bounds)):
            return False
        t = op.inputs[0]
        if t is None or t.data is not None:
            return False
    return False


LOWERINGS = {
    "QuantizeLinear": lower_quantize,
    "DequantizeLinear": lower_dequantize,
}
