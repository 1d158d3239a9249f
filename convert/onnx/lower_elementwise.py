"""ONNX elementwise math, comparison and logic ops -> TFLite elementwise ops.

ONNX broadcasts like NumPy; TFLite's binary ops broadcast too, but operands of lower rank are given
explicit leading ones (free for constants, a RESHAPE for run-time values) so that every operand has the
output's rank and the layout pass can permute them all alike. Scalars stay scalars: they broadcast under
any permutation.
"""
from __future__ import annotations

import numpy as np

from ..ir import Tensor

BINARY = {"Add": "ADD", "Sub": "SUB", "Equal": "EQUAL", "Less": "LESS", "Greater": "GREATER",
          "LessOrEqual": "LESS_EQUAL", "GreaterOrEqual": "GREATER_EQUAL", "And": "LOGICAL_AND",
          "Or": "LOGICAL_OR", "Xor": "NOT_EQUAL"}
COMPARISONS = frozenset({"EQUAL", "NOT_EQUAL", "LESS", "GREATER", "LESS_EQUAL", "GREATER_EQUAL"})
UNARY = {"Sqrt": "SQRT", "Exp": "EXP", "Log": "LOG", "Neg": "NEG", "Abs": "ABS", "Floor": "FLOOR",
         "Ceil": "CEIL", "Round": "ROUND", "Sin": "SIN", "Cos": "COS", "Sign": "SIGN", "Not": "LOGICAL_NOT"}
VARIADIC = {"Max": "MAXIMUM", "Min": "MINIMUM", "Sum": "ADD"}
INT32 = (-(1 << 31), (1 << 31) - 1)
# TFLite computes nothing in float64 (ADD, MUL, EXP, RELU, SUM, GATHER... all reject it); only these of
# the ops our rules emit take float64 values.
FLOAT64_KERNELS = frozenset({"SIGN", "SELECT_V2", "CAST", "RESHAPE", "TRANSPOSE", "SLICE", "STRIDED_SLICE",
                             "SQUEEZE", "EXPAND_DIMS"})


# -- shapes and operands ---------------------------------------------------------------------------------
def broadcast_shape(*shapes) -> tuple:
    """NumPy broadcasting of shapes whose dims may be None (unknown): a None meets 1 -> None, meets n -> n."""
    rank = max((len(s) for s in shapes), default=0)
    out = []
    for i in range(rank):
        dims = [s[len(s) - rank + i] for s in shapes if len(s) - rank + i >= 0]
        known = {d for d in dims if d is not None and d != 1}
        out.append(known.pop() if known else None if None in dims else 1)
    return tuple(out)


def result_shape(ctx, out, shape) -> tuple:
    """The shape of ONNX value `out`: each dim from ONNX inference where it knows it, else ours."""
    info = ctx.output_info(out)[0] if out else None
    if info is None:
        return shape
    if shape is None or len(shape) != len(info):
        return info
    return tuple(s if i is None else i for i, s in zip(info, shape))


def align_rank(ctx, t: Tensor, rank: int) -> Tensor:
    """t with leading ones up to `rank` (scalars and full-rank tensors unchanged)."""
    if t.rank == 0 or t.rank >= rank:
        return t
    shape = (1,) * (rank - t.rank) + t.shape
    if t.data is not None:
        return ctx.const(t.data.reshape(shape), hint="bcast")
    return reshape(ctx, t, shape)


def reshape(ctx, x: Tensor, shape, out=None) -> Tensor:
    """RESHAPE to `shape`; at most one dim may be unknown (None -> -1)."""
    shape = result_shape(ctx, out, tuple(shape))
    if sum(d is None for d in shape) > 1:
        ctx.fail(f"cannot reshape '{x.name}' {list(x.shape)} to {['?' if d is None else d for d in shape]}: "
                 "more than one dimension is unknown; give static input shapes with --input-shape")
    spec = ctx.const(np.array([-1 if d is None else d for d in shape], np.int32), hint="shape")
    return ctx.emit("RESHAPE", [x, spec], out=out, shape=shape)


def same_dtype(ctx, t: Tensor, dtype: str) -> Tensor:
    """t as `dtype`: constants converted in place of a CAST op, run-time values cast."""
    if t.dtype == dtype:
        return t
    if t.data is not None:
        return ctx.const(t.data.astype(dtype), hint="cast")
    return cast(ctx, t, dtype)


def cast(ctx, x: Tensor, dtype: str, out=None) -> Tensor:
    return ctx.emit("CAST", [x], {"in_data_type": tensor_type(x.dtype), "out_data_type": tensor_type(dtype)},
                    out=out, shape=result_shape(ctx, out, x.shape), dtype=dtype)


def tensor_type(dtype: str) -> str:
    """numpy dtype name -> TFLite TensorType name."""
    return "BOOL" if dtype == "bool" else dtype.upper()


def check_kernel_dtype(ctx, op_type: str, tensors) -> None:
    """Fail at conversion, rather than in the interpreter, on run-time float64 values TFLite cannot compute
    (constants are fine: they fold)."""
    if op_type not in FLOAT64_KERNELS and any(t is not None and t.dtype == "float64" and t.data is None
                                              for t in tensors):
        ctx.fail(f"TFLite has no float64 {op_type} kernel; export the model in float32")


def binary(ctx, op_type: str, a: Tensor, b: Tensor, out=None, options=None, dtype=None) -> Tensor:
    """One broadcasting TFLite binary op with rank-aligned operands."""
    check_kernel_dtype(ctx, op_type, (a, b))
    shape = broadcast_shape(a.shape, b.shape)
    a, b = align_rank(ctx, a, len(shape)), align_rank(ctx, b, len(shape))
    return ctx.emit(op_type, [a, b], options, out=out, shape=result_shape(ctx, out, shape), dtype=dtype)


def scalar(ctx, value, like: Tensor, hint="const") -> Tensor:
    return ctx.const(np.array(value, like.dtype), hint=hint)


def unary(ctx, op_type: str, x: Tensor, out=None, options=None) -> Tensor:
    check_kernel_dtype(ctx, op_type, (x,))
    return ctx.emit(op_type, [x], options, out=out, shape=result_shape(ctx, out, x.shape))


def constant_scalar(t: Tensor):
    """The single value of a constant whose elements are all equal, else None."""
    if t.data is None or t.data.size == 0:
        return None
    flat = t.data.reshape(-1)
    return flat[0].item() if np.all(flat == flat[0]) else None


# -- lowerings -----------------------------------------------------------------------------------------
def lower_binary(ctx, node):
    a, b = ctx.inputs()[:2]
    op_type = BINARY[node.op_type]
    binary(ctx, op_type, a, b, out=node.output[0], dtype="bool" if op_type in COMPARISONS else None)


def lower_div(ctx, node):
    a, b = ctx.inputs()[:2]
    out = node.output[0]
    x = relu6_product_input(ctx, a) if scalar_operand_value(b, 6) else None
    if x is not None:  # (x * relu6(x + 3)) / 6, see HARD_SWISH recognition below
        unary(ctx, "HARD_SWISH", x, out=out)
        return
    if a.dtype == "int32" or np.dtype(a.dtype).kind not in "iu" or (a.data is not None and b.data is not None):
        # TFLite DIV on int32 truncates toward zero, as ONNX integer Div does; constants of any type fold
        # right here (the reference DIV truncates too).
        binary(ctx, "DIV", a, b, out=out)
        return
    # TFLite DIV has no other integer kernel: divide in int32 (ONNX shape math lives in int64, but its
    # values fit; run-time values beyond int32 would wrap), then return to the ONNX type.
    check_int32_range(ctx, a, b)
    q = binary(ctx, "DIV", same_dtype(ctx, a, "int32"), same_dtype(ctx, b, "int32"))
    cast(ctx, q, a.dtype, out=out)


def check_int32_range(ctx, *tensors):
    for t in tensors:
        if t.data is not None and t.data.size and (t.data.min() < INT32[0] or t.data.max() > INT32[1]):
            ctx.fail(f"integer Div operand '{t.name}' does not fit int32, the widest integer TFLite DIV has")


def lower_pow(ctx, node):
    x, y = ctx.inputs()[:2]
    out = node.output[0]
    e = constant_scalar(y) if broadcast_shape(x.shape, y.shape) == x.shape else None
    if e == 1:
        ctx.bind(out, x)
    elif e == 2:
        binary(ctx, "MUL", x, x, out=out)
    elif e == 0.5 and x.dtype.startswith("float"):
        unary(ctx, "SQRT", x, out=out)
    else:
        binary(ctx, "POW", x, same_dtype(ctx, y, x.dtype), out=out)


def lower_unary(ctx, node):
    unary(ctx, UNARY[node.op_type], ctx.input(0), out=node.output[0])


def lower_reciprocal(ctx, node):
    x = ctx.input(0)
    binary(ctx, "DIV", scalar(ctx, 1, x, "one"), x, out=node.output[0])


def lower_mul(ctx, node):
    a, b = ctx.inputs()[:2]
    x = hard_swish_of_mul(ctx, a, b)
    if x is not None:
        unary(ctx, "HARD_SWISH", x, out=node.output[0])
        return
    binary(ctx, "MUL", a, b, out=node.output[0])


# -- HARD_SWISH recognition ----------------------------------------------------------------------------
# Exporters spell hardswish(x) = x * relu6(x + 3) / 6 in elementwise ops; the Mul and Div rules look back
# through the ops already lowered and emit one HARD_SWISH instead (ops left unused are removed by the
# dead-code pass). Forms: x * g(x) with g a hard sigmoid — HardSigmoid(alpha=1/6, beta=1/2) as lowered by
# lower_activations, relu6(x + 3) / 6 or relu6(x + 3) * (1/6) — and (x * relu6(x + 3)) / 6 or * (1/6).
#
# Exporters write 1/6 with 7 digits (PP-OCR: 0.1666667), so a factor within SIXTH_TOL of 1/6 counts: the
# result then differs from HARD_SWISH by (factor - 1/6) * x^2, relative 6e-6 * |x| at most.
SIXTH_TOL = 1e-6


def hard_swish_of_mul(ctx, a: Tensor, b: Tensor):
    """x when a * b is hardswish(x), else None."""
    for p, q in ((a, b), (b, a)):
        if hard_sigmoid_input(ctx, q) is p:
            return p
        if scalar_operand_value(q, 1 / 6, SIXTH_TOL):
            x = relu6_product_input(ctx, p)
            if x is not None:
                return x
    return None


def hard_sigmoid_input(ctx, t: Tensor):
    """x when t is a hard sigmoid of x (see above), else None."""
    mn = made_by(ctx, t, "MINIMUM")
    add = made_by(ctx, const_partner(mn, 1), "ADD", fused="RELU")
    mul = made_by(ctx, const_partner(add, 0.5), "MUL")
    x = const_partner(mul, 1 / 6, SIXTH_TOL)
    if x is not None:
        return x
    scaled = made_by(ctx, t, "DIV")
    if scaled is not None and scalar_operand_value(scaled.inputs[1], 6):
        return relu6_shift_input(ctx, scaled.inputs[0])
    return relu6_shift_input(ctx, const_partner(made_by(ctx, t, "MUL"), 1 / 6, SIXTH_TOL))


def relu6_shift_input(ctx, t):
    """x when t = relu6(x + 3), else None."""
    relu6 = made_by(ctx, t, "RELU6")
    return const_partner(made_by(ctx, relu6.inputs[0] if relu6 else None, "ADD", fused="NONE"), 3)


def relu6_product_input(ctx, t):
    """x when t = x * relu6(x + 3), else None."""
    mul = made_by(ctx, t, "MUL", fused="NONE")
    if mul is None:
        return None
    p, q = mul.inputs
    return p if relu6_shift_input(ctx, q) is p else q if relu6_shift_input(ctx, p) is q else None


def made_by(ctx, t, op_type: str, fused: str | None = None):
    """The op of type op_type (with that fused activation, if given) writing float tensor t, else None."""
    if t is None or t.data is not None or not t.dtype.startswith("float"):
        return None
    op = producer(ctx, t)
    if op is None or op.type != op_type:
        return None
    return op if fused is None or op.options.get("fused_activation_function") == fused else None


def const_partner(op, value: float, tol: float = 0.0):
    """The run-time operand of binary op `op` whose other operand is the scalar constant `value`."""
    if op is None or len(op.inputs) != 2:
        return None
    for c, other in ((op.inputs[1], op.inputs[0]), (op.inputs[0], op.inputs[1])):
        if other.data is None and scalar_operand_value(c, value, tol):
            return other
    return None


def scalar_operand_value(t: Tensor, value: float, tol: float = 0.0) -> bool:
    """t is a one-element constant equal to value (within tol); one element, so it changes no shape."""
    return t.data is not None and t.data.size == 1 and abs(float(t.data.reshape(-1)[0]) - value) <= tol


def producer(ctx, t: Tensor):
    """The graph op writing t, searched backwards since a consumer's producer is usually near."""
    for op in reversed(ctx.graph.ops):
        if any(o is t for o in op.outputs):
            return op
    return None


def lower_variadic(ctx, node):
    fold_variadic(ctx, VARIADIC[node.op_type], ctx.inputs(), node.output[0])


def fold_variadic(ctx, op_type: str, operands: list, out):
    """op over any number of operands as a chain of binary ops; the last writes `out`."""
    if len(operands) == 1:
        ctx.bind(out, operands[0])
        return operands[0]
    acc = operands[0]
    for i, t in enumerate(operands[1:], start=2):
        acc = binary(ctx, op_type, acc, t, out=out if i == len(operands) else None)
    return acc


def lower_mean(ctx, node):
    operands = ctx.inputs()
    if len(operands) == 1:
        ctx.bind(node.output[0], operands[0])
        return
    total = fold_variadic(ctx, "ADD", operands, None)
    binary(ctx, "MUL", total, scalar(ctx, 1 / len(operands), total, "inv_n"), out=node.output[0])


def lower_where(ctx, node):
    cond, x, y = ctx.inputs()
    shape = broadcast_shape(cond.shape, x.shape, y.shape)
    operands = [align_rank(ctx, t, len(shape)) for t in (cond, x, y)]
    out = node.output[0]
    ctx.emit("SELECT_V2", operands, out=out, shape=result_shape(ctx, out, shape), dtype=x.dtype)


LOWERINGS = {
    **{k: lower_binary for k in BINARY},
    **{k: lower_unary for k in UNARY},
    **{k: lower_variadic for k in VARIADIC},
    "Mul": lower_mul,
    "Div": lower_div,
    "Pow": lower_pow,
    "Reciprocal": lower_reciprocal,
    "Mean": lower_mean,
    "Where": lower_where,
}
