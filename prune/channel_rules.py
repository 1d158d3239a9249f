"""How each op type relates the channel ids of its inputs and outputs (see channels.py), one rule per
family, as a table. An op type missing here is opaque: its channels are pinned on both sides.

Weighted ops and NHWC ops (pooling, resize, depthwise) need the channels on the last axis; elementwise ops,
padding, reductions, transposes, reshapes and concatenation follow them along whichever axis they are on.
"""
from __future__ import annotations

import math

import numpy as np

from edgepress.convert.ir import Op, Tensor

from .channels import Analysis, Consumer, tracked


def _input(op: Op, index: int) -> Tensor | None:
    return op.inputs[index] if index < len(op.inputs) else None


def _float_constant(t: Tensor | None) -> bool:
    return t is not None and t.is_constant and t.dtype == "float32" and t.quant is None and t.sparsity is None


def _weights_ok(op: Op, w: int, b: int) -> bool:
    bias = _input(op, b)
    return _float_constant(op.inputs[w]) and (bias is None or _float_constant(bias))


def _constant_ints(t: Tensor | None) -> list | None:
    return None if t is None or not t.is_constant else [int(v) for v in np.ravel(t.data)]


def _tie_groups(a: Analysis, ids: np.ndarray, groups: int) -> None:
    """Position j of every group is one class: a grouped conv needs the same count in each group."""
    rows = ids.reshape(groups, -1)
    for g in range(1, groups):
        a.unify(rows[0], rows[g])


# -- weighted ops -------------------------------------------------------------------------------------------
def _consume(a: Analysis, op: Op, data: int, axis: int, groups: int = 1) -> None:
    """Input `data` of a weighted op loses the channels its producers lose, when they run along its last
    axis; otherwise the op keeps all its input channels (they are pinned) while its outputs stay prunable."""
    x = op.inputs[data]
    xi = a.last(x)
    if xi is None:
        a.pin(x)
        return
    if groups > 1:
        _tie_groups(a, xi, groups)
    a.consumers.append(Consumer(op, data, 1, axis, groups))
    a.slice(op, 1, axis, x, groups)


def _produce(a: Analysis, op: Op, bias: int, groups: int = 1) -> None:
    y = op.outputs[0]
    yi = a.fresh(y)
    if groups > 1:
        _tie_groups(a, yi, groups)
    a.slice(op, 1, 0, y)
    a.slice(op, bias, 0, y)
    a.producers[id(y)] = op


def conv_2d(a: Analysis, op: Op) -> None:
    x, w, y = op.inputs[0], op.inputs[1], op.outputs[0]
    if not _weights_ok(op, 1, 2) or not tracked(y) or x.rank != 4 or not x.shape[-1] or x.shape[-1] % w.shape[3]:
        return a.opaque(op)
    groups = x.shape[-1] // w.shape[3]
    _consume(a, op, 0, 3, groups)
    _produce(a, op, 2, groups)


def depthwise_conv_2d(a: Analysis, op: Op) -> None:
    """Output channel c*M + m filters input channel c: the output repeats each input id M times."""
    x, w, y = op.inputs[0], op.inputs[1], op.outputs[0]
    xi = a.last(x)
    if xi is None or not _weights_ok(op, 1, 2) or w.shape[3] % max(x.shape[-1], 1):
        return a.opaque(op)
    a.same(y, np.repeat(xi, w.shape[3] // x.shape[-1]))
    a.slice(op, 1, 3, y)
    a.slice(op, 2, 0, y)


def fully_connected(a: Analysis, op: Op) -> None:
    x, w, y = op.inputs[0], op.inputs[1], op.outputs[0]
    if not _weights_ok(op, 1, 2) or not tracked(y) or w.rank != 2 or not x.rank or x.shape[-1] != w.shape[1]:
        return a.opaque(op)
    _consume(a, op, 0, 1)
    _produce(a, op, 2)


def transpose_conv(a: Analysis, op: Op) -> None:
    """Inputs (output_shape, weights OHWI, data, bias); the output_shape constant follows the output."""
    w, x, y = op.inputs[1], op.inputs[2], op.outputs[0]
    if (not _weights_ok(op, 1, 3) or not tracked(y) or x.rank != 4 or x.shape[-1] != w.shape[3]
            or not op.inputs[0].is_constant):
        return a.opaque(op)
    _consume(a, op, 2, 3)
    _produce(a, op, 3)


# -- ops that keep channels where they are --------------------------------------------------------------
def nhwc(a: Analysis, op: Op) -> None:
    """Pooling and resizing: input 0's channels, on the last axis, come out unchanged."""
    xi = a.last(op.inputs[0])
    if xi is None:
        return a.opaque(op)
    a.same(op.outputs[0], xi)


def unary(a: Analysis, op: Op) -> None:
    x = op.inputs[0]
    xi = a.of(x)
    if xi is None or x.shape != op.outputs[0].shape:
        return a.opaque(op)
    a.same(op.outputs[0], xi, a.axis_of(x))


def pad(a: Analysis, op: Op) -> None:
    x, paddings = op.inputs[0], _constant_ints(op.inputs[1])
    xi, axis = a.of(x), a.axis_of(x)
    if xi is None or axis is None or paddings is None or paddings[2 * axis:2 * axis + 2] != [0, 0]:
        return a.opaque(op)
    a.same(op.outputs[0], xi, axis)


def prelu(a: Analysis, op: Op) -> None:
    """PRELU is elementwise with its slopes broadcast like a binary op's constant."""
    if not _float_constant(op.inputs[1]):
        return a.opaque(op)
    elementwise(a, op)


def elementwise(a: Analysis, op: Op) -> None:
    """Broadcasting ops. Axes align from the right; the output's channel axis is where the first runtime
    input carrying more than one channel puts them. Runtime inputs varying along that axis must carry the
    channels there (they are unified), others are broadcast along it (their own channels are pinned);
    constants varying along it are cut with it."""
    y = op.outputs[0]
    runtime = [t for t in op.inputs if t is not None and not t.is_constant]
    if not tracked(y) or not y.rank or any(a.of(t) is None for t in runtime):
        return a.opaque(op)
    axis = next((a.axis_of(t) + y.rank - t.rank for t in runtime
                 if t.rank and t.shape[a.axis_of(t)] > 1
                 and t.shape[a.axis_of(t)] == y.shape[a.axis_of(t) + y.rank - t.rank]), y.rank - 1)
    carriers = []
    for t in runtime:
        at = axis - (y.rank - t.rank)
        if at < 0 or t.shape[at] == 1:
            a.pinned.append(a.of(t))
        elif a.axis_of(t) == at:
            carriers.append(a.of(t))
        else:
            return a.opaque(op)
    for i, t in enumerate(op.inputs):
        at = axis - (y.rank - t.rank) if t is not None else -1
        if t is not None and t.is_constant and at >= 0 and t.shape[at] == y.shape[axis]:
            a.slice(op, i, at, y)
    if not carriers:
        a.fresh(y, pinned=True)
        return None
    for ids in carriers[1:]:
        a.unify(carriers[0], ids)
    a.same(y, carriers[0], axis)


def concatenation(a: Analysis, op: Op) -> None:
    y = op.outputs[0]
    runtime = [t for t in op.inputs if not t.is_constant]
    if not tracked(y) or not runtime or any(a.of(t) is None or t.rank != y.rank for t in runtime):
        return a.opaque(op)
    axis = op.options["axis"] % y.rank
    tracked_axes = {a.axis_of(t) for t in runtime}
    if tracked_axes == {axis}:
        parts = [a.pinned_ids(t.shape[axis]) if t.is_constant else a.of(t) for t in op.inputs]
        a.same(y, np.concatenate(parts), axis)
        return None
    elementwise(a, op)


def reduce(a: Analysis, op: Op) -> None:
    x, axes = op.inputs[0], _constant_ints(op.inputs[1])
    xi, axis = a.of(x), a.axis_of(x)
    if xi is None or axis is None or axes is None:
        return a.opaque(op)
    reduced = {v % x.rank for v in axes}
    if axis in reduced:
        return a.opaque(op)
    a.same(op.outputs[0], xi, axis if op.options.get("keep_dims") else axis - sum(r < axis for r in reduced))


def transpose(a: Analysis, op: Op) -> None:
    x, perm = op.inputs[0], _constant_ints(op.inputs[1])
    xi, axis = a.of(x), a.axis_of(x)
    if xi is None or axis is None or perm is None:
        return a.opaque(op)
    a.same(op.outputs[0], xi, [p % x.rank for p in perm].index(axis))


def reshape(a: Analysis, op: Op) -> None:
    """Flat index p holds channel (p // inner) % C (inner: the input's size after the channel axis). On an
    output axis b with size n and inner size m, that is (q // r) % C of the coordinate q along b alone
    when m divides inner (r = inner / m) and n is a multiple of r * C: the output tracks ids[(q // r) % C]
    along b. The last such axis is taken; without one the reshape mixes channels and is opaque."""
    x, y = op.inputs[0], op.outputs[0]
    xi, axis = a.of(x), a.axis_of(x)
    if xi is None or axis is None or not tracked(y) or not y.rank:
        return a.opaque(op)
    c, inner = x.shape[axis], math.prod(x.shape[axis + 1:])
    for b in reversed(range(y.rank)):
        m, n = math.prod(y.shape[b + 1:]), y.shape[b]
        if inner % m == 0 and n % ((inner // m) * c) == 0 and (n > 1 or c == 1):
            a.same(y, xi[(np.arange(n) // (inner // m)) % c], b)
            return None
    a.opaque(op)


NHWC = ("AVERAGE_POOL_2D", "MAX_POOL_2D", "L2_POOL_2D", "RESIZE_BILINEAR", "RESIZE_NEAREST_NEIGHBOR")
UNARY = ("RELU", "RELU6", "RELU_N1_TO_1", "RELU_0_TO_1", "LOGISTIC", "TANH", "HARD_SWISH", "ELU", "LEAKY_RELU",
         "GELU", "ABS", "NEG", "EXP", "LOG", "SQRT", "RSQRT", "SQUARE", "SIN", "COS", "FLOOR", "CEIL", "ROUND",
         "SIGN")
BINARY = ("ADD", "SUB", "MUL", "DIV", "MAXIMUM", "MINIMUM", "SQUARED_DIFFERENCE", "POW")
REDUCE = ("MEAN", "SUM", "REDUCE_MAX", "REDUCE_MIN", "REDUCE_PROD")
SHAPE = ("RESHAPE", "SQUEEZE", "EXPAND_DIMS")

RULES = {
    "CONV_2D": conv_2d,
    "DEPTHWISE_CONV_2D": depthwise_conv_2d,
    "FULLY_CONNECTED": fully_connected,
    "TRANSPOSE_CONV": transpose_conv,
    "PAD": pad,
    "PADV2": pad,
    "MIRROR_PAD": pad,
    "PRELU": prelu,
    "CONCATENATION": concatenation,
    "TRANSPOSE": transpose,
    **{t: nhwc for t in NHWC},
    **{t: unary for t in UNARY},
    **{t: elementwise for t in BINARY},
    **{t: reduce for t in REDUCE},
    **{t: reshape for t in SHAPE},
}
