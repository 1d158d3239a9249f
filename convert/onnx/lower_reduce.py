"""ONNX Reduce* and ArgMax/ArgMin -> TFLite reducers (MEAN, SUM, REDUCE_MAX...) and ARG_MAX/ARG_MIN.

Reduce axes moved from an attribute to an input at opset 13 for ReduceSum and at 18 for the others;
an empty or absent axes list reduces everything, or nothing with noop_with_empty_axes.
"""
from __future__ import annotations

import numpy as np

from .lower_elementwise import binary, check_kernel_dtype, reshape, result_shape, unary
from .lower_shape import int32_const, normalize_axis

REDUCERS = {"ReduceMean": "MEAN", "ReduceMax": "REDUCE_MAX", "ReduceMin": "REDUCE_MIN", "ReduceSum": "SUM",
            "ReduceProd": "REDUCE_PROD"}
# Max/Min over booleans (opset 20) are any/all.
BOOL_REDUCERS = {"REDUCE_MAX": "REDUCE_ANY", "REDUCE_MIN": "REDUCE_ALL"}
AXES_INPUT_SINCE = {"ReduceSum": 13}  # every other reducer: 18
ARG = {"ArgMax": "ARG_MAX", "ArgMin": "ARG_MIN"}


def reduce_spec(ctx, node, x):
    """(axes sorted and non-negative, or None for "no reduction"; keepdims)."""
    a = ctx.attrs()
    if ctx.opset < AXES_INPUT_SINCE.get(node.op_type, 18):
        axes = a.get("axes")
    else:
        axes = ctx.const_input(1, "axes")
    axes = [] if axes is None else [int(v) for v in np.asarray(axes).reshape(-1)]
    if not axes:
        if a.get("noop_with_empty_axes", 0):
            return None, bool(a.get("keepdims", 1))
        axes = list(range(x.rank))
    return sorted({normalize_axis(ctx, v, x.rank) for v in axes}), bool(a.get("keepdims", 1))


def reduced_shape(shape: tuple, axes, keepdims: bool) -> tuple:
    return tuple(1 if i in axes else d for i, d in enumerate(shape) if keepdims or i not in axes)


def reduce(ctx, op_type: str, x, axes, keepdims: bool, out=None):
    if x.dtype == "bool":
        op_type = BOOL_REDUCERS.get(op_type, op_type)
    check_kernel_dtype(ctx, op_type, (x,))
    return ctx.emit(op_type, [x, int32_const(ctx, axes, "axes")], {"keep_dims": keepdims}, out=out,
                    shape=result_shape(ctx, out, reduced_shape(x.shape, axes, keepdims)))


def lower_reduce(ctx, node):
    x = ctx.input(0)
    out = node.output[0]
    axes, keepdims = reduce_spec(ctx, node, x)
    if axes is None:
        ctx.bind(out, x)
        return
    if node.op_type in REDUCERS:
        reduce(ctx, REDUCERS[node.op_type], x, axes, keepdims, out)
    else:
        COMPOSED[node.op_type](ctx, x, axes, keepdims, out)


def reduce_l1(ctx, x, axes, keepdims, out):
    reduce(ctx, "SUM", unary(ctx, "ABS", x), axes, keepdims, out)


def reduce_l2(ctx, x, axes, keepdims, out):
    unary(ctx, "SQRT", reduce_sum_square(ctx, x, axes, keepdims, None), out=out)


def reduce_sum_square(ctx, x, axes, keepdims, out):
    return reduce(ctx, "SUM", binary(ctx, "MUL", x, x), axes, keepdims, out)


def reduce_log_sum(ctx, x, axes, keepdims, out):
    unary(ctx, "LOG", reduce(ctx, "SUM", x, axes, keepdims), out=out)


def reduce_log_sum_exp(ctx, x, axes, keepdims, out):
    """m + log(sum(exp(x - m))) with m the max over the axes, so exp never overflows."""
    m = reduce(ctx, "REDUCE_MAX", x, axes, True)
    total = reduce(ctx, "SUM", unary(ctx, "EXP", binary(ctx, "SUB", x, m)), axes, keepdims)
    m = m if keepdims else reshape(ctx, m, reduced_shape(x.shape, axes, False))
    binary(ctx, "ADD", unary(ctx, "LOG", total), m, out=out)


COMPOSED = {"ReduceL1": reduce_l1, "ReduceL2": reduce_l2, "ReduceSumSquare": reduce_sum_square,
            "ReduceLogSum": reduce_log_sum, "ReduceLogSumExp": reduce_log_sum_exp}


def lower_arg(ctx, node):
    """TFLite ARG_MAX/ARG_MIN drop the axis and return the first extreme index, like ONNX's default."""
    x = ctx.input(0)
    a = ctx.attrs()
    out = node.output[0]
    if a.get("select_last_index", 0):
        ctx.fail("select_last_index=1 is not supported")
    axis = normalize_axis(ctx, a.get("axis", 0), x.rank)
    keepdims = bool(a.get("keepdims", 1))
    op_type = ARG[node.op_type]
    check_kernel_dtype(ctx, op_type, (x,))
    options = {"output_type": "INT64"}
    dropped = reduced_shape(x.shape, [axis], False)
    if not keepdims:
        ctx.emit(op_type, [x, int32_const(ctx, [axis], "axis")], options, out=out,
                 shape=result_shape(ctx, out, dropped), dtype="int64")
        return
    idx = ctx.emit(op_type, [x, int32_const(ctx, [axis], "axis")], options, shape=dropped, dtype="int64")
    kept = reduced_shape(x.shape, [axis], True)
    if sum(d is None for d in kept) <= 1:
        reshape(ctx, idx, kept, out=out)
    else:
        ctx.emit("EXPAND_DIMS", [idx, int32_const(ctx, axis, "axis")], out=out, shape=result_shape(ctx, out, kept))


LOWERINGS = {
    **{k: lower_reduce for k in (*REDUCERS, *COMPOSED)},
    **{k: lower_arg for k in ARG},
}
