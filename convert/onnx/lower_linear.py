"""ONNX Gemm and MatMul -> TFLite FULLY_CONNECTED (constant right operand) or BATCH_MATMUL.

FULLY_CONNECTED wants weights as (out, in), the transpose of MatMul's right operand; it multiplies the last
axis of any input (keep_num_dims keeps the leading ones). 1-D operands follow NumPy's matmul rules: a
vector on the left is a row, on the right a column, and the added axis is removed from the result.
"""
from __future__ import annotations

import numpy as np

from ..ir import Tensor
from .common import reshape_to
from .lower_elementwise import binary, result_shape


def fully_connected(ctx, x: Tensor, weights: np.ndarray, bias: np.ndarray | None, out=None) -> Tensor:
    """x (..., K) times weights (N, K)^T, plus bias (N,)."""
    keep = x.rank > 2
    shape = (*x.shape[:-1], weights.shape[0]) if keep else (x.shape[0] if x.rank == 2 else 1, weights.shape[0])
    inputs = [x, ctx.const(weights, hint="weights"), None if bias is None else ctx.const(bias, hint="bias")]
    return ctx.emit("FULLY_CONNECTED", inputs, {"keep_num_dims": keep}, out=out, shape=result_shape(ctx, out, shape))


def batch_matmul(ctx, a: Tensor, b: Tensor, adj_a=False, adj_b=False, out=None) -> Tensor:
    m = a.shape[-1] if adj_a else a.shape[-2]
    n = b.shape[-2] if adj_b else b.shape[-1]
    batch = broadcast(a.shape[:-2], b.shape[:-2])
    return ctx.emit("BATCH_MATMUL", [a, b], {"adj_x": adj_a, "adj_y": adj_b}, out=out,
                    shape=result_shape(ctx, out, (*batch, m, n)))


def broadcast(s1, s2) -> tuple:
    rank = max(len(s1), len(s2))
    s1, s2 = (1,) * (rank - len(s1)) + tuple(s1), (1,) * (rank - len(s2)) + tuple(s2)
    return tuple(b if a == 1 else a if b == 1 else a if a is not None else b for a, b in zip(s1, s2))


def lower_matmul(ctx, node):
    a, b = ctx.inputs()[:2]
    out = node.output[0]
    if not a.dtype.startswith("float"):
        ctx.fail(f"MatMul on {a.dtype} is not supported (TFLite's float matrix products only)")
    if b.data is not None and b.rank <= 2:
        weights = b.data.T if b.rank == 2 else b.data[None, :]
        row = a if a.rank > 1 else reshape_to(ctx, a, (1, a.shape[0]))
        if a.rank > 1 and b.rank == 2:
            fully_connected(ctx, row, np.ascontiguousarray(weights), None, out=out)
            return
        y = fully_connected(ctx, row, np.ascontiguousarray(weights), None)
        reshape_to(ctx, y, result_shape(ctx, out, matmul_shape(a.shape, b.shape)), out=out)
        return
    lhs = a if a.rank > 1 else reshape_to(ctx, a, (1, a.shape[0]))
    rhs = b if b.rank > 1 else reshape_to(ctx, b, (b.shape[0], 1))
    if a.rank > 1 and b.rank > 1:
        batch_matmul(ctx, lhs, rhs, out=out)
        return
    reshape_to(ctx, batch_matmul(ctx, lhs, rhs), result_shape(ctx, out, matmul_shape(a.shape, b.shape)), out=out)


def matmul_shape(sa, sb) -> tuple:
    """numpy.matmul's result shape, dims None where unknown."""
    rows = () if len(sa) == 1 else (sa[-2],)
    cols = () if len(sb) == 1 else (sb[-1],)
    return (*broadcast(sa[:-2], sb[:-2]), *rows, *cols)


def lower_gemm(ctx, node):
    """alpha * A' B' + beta * C. A constant B folds alpha (and its transpose) into FULLY_CONNECTED weights,
    and a C that is one value per output column becomes the bias; anything else is added after."""
    a, b, c = ctx.input(0), ctx.input(1), ctx.input(2)
    attrs = ctx.attrs()
    alpha, beta = float(attrs.get("alpha", 1.0)), float(attrs.get("beta", 1.0))
    trans_a, trans_b = bool(attrs.get("transA", 0)), bool(attrs.get("transB", 0))
    out = node.output[0]
    if c is not None and beta == 0.0:
        c = None
    if b.data is not None:
        weights = (b.data if trans_b else b.data.T) * np.asarray(alpha, b.dtype)
        n = weights.shape[0]
        bias = column_bias(c, n, beta)
        lhs = ctx.transpose(a, (1, 0)) if trans_a else a
        separate = c is not None and bias is None
        y = fully_connected(ctx, lhs, np.ascontiguousarray(weights), bias, out=None if separate else out)
        if separate:
            add_scaled(ctx, y, c, beta, out)
        return
    y = batch_matmul(ctx, a, b, trans_a, trans_b, out=out if alpha == 1.0 and c is None else None)
    if alpha != 1.0:
        y = binary(ctx, "MUL", y, ctx.const(np.array(alpha, y.dtype), hint="alpha"), out=out if c is None else None)
    if c is not None:
        add_scaled(ctx, y, c, beta, out)


def column_bias(c: Tensor | None, n: int, beta: float) -> np.ndarray | None:
    """beta * C as a (n,) bias when C is a constant with one value per output column (shapes (), (1,),
    (n,), (1, n)); else None."""
    if c is None or c.data is None or c.data.size not in (1, n) or (c.rank == 2 and c.shape[0] != 1):
        return None
    return np.broadcast_to(c.data.reshape(-1) * np.asarray(beta, c.dtype), (n,)).astype(c.dtype)


def add_scaled(ctx, y: Tensor, c: Tensor, beta: float, out: str) -> None:
    if c.data is not None:
        c = ctx.const(c.data * np.asarray(beta, c.dtype), hint="c")
    elif beta != 1.0:
        c = binary(ctx, "MUL", c, ctx.const(np.array(beta, c.dtype), hint="beta"))
    binary(ctx, "ADD", y, c, out=out)


LOWERINGS = {
    "Gemm": lower_gemm,
    "MatMul": lower_matmul,
}
