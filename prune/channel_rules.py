"""How each op type relates the channel ids of its inputs and outputs (see channels.py), one rule per
family, as a table. An op type missing here is opaque: its channels are pinned on both sides."""
from __future__ import annotations

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


def _tie_groups(a: Analysis, ids: np.ndarray, groups: int) -> None:
    """Position j of every group is one class: a grouped conv needs the same count in each group."""
    rows = ids.reshape(groups, -1)
    for g in range(1, groups):
        a.unify(rows[0], rows[g])


def conv_2d(a: Analysis, op: Op) -> None:
    x, w, y = op.inputs[0], op.inputs[1], op.outputs[0]
    xi = a.of(x)
    if xi is None or not _weights_ok(op, 1, 2) or not tracked(y) or x.shape[-1] % w.shape[3]:
        return a.opaque(op)
    groups = x.shape[-1] // w.shape[3]
    yi = a.fresh(y)
    if groups > 1:
        _tie_groups(a, xi, groups)
        _tie_groups(a, yi, groups)
    a.consumers.append(Consumer(op, 0, 1, 3, groups))
    a.slice(op, 1, 3, x, groups)
    a.slice(op, 1, 0, y)
    a.slice(op, 2, 0, y)
    a.producers[id(y)] = op


def depthwise_conv_2d(a: Analysis, op: Op) -> None:
    """Output channel c*M + m filters input channel c: the output repeats each input id M times."""
    x, w, y = op.inputs[0], op.inputs[1], op.outputs[0]
    xi = a.of(x)
    if xi is None or not _weights_ok(op, 1, 2) or w.shape[3] % max(x.shape[-1], 1):
        return a.opaque(op)
    a.same(y, np.repeat(xi, w.shape[3] // x.shape[-1]))
    a.slice(op, 1, 3, y)
    a.slice(op, 2, 0, y)


def fully_connected(a: Analysis, op: Op) -> None:
    x, w, y = op.inputs[0], op.inputs[1], op.outputs[0]
    xi = a.of(x)
    if xi is None or not _weights_ok(op, 1, 2) or not tracked(y) or w.rank != 2 or x.shape[-1] != w.shape[1]:
        return a.opaque(op)
    a.fresh(y)
    a.consumers.append(Consumer(op, 0, 1, 1))
    a.slice(op, 1, 1, x)
    a.slice(op, 1, 0, y)
    a.slice(op, 2, 0, y)
    a.producers[id(y)] = op


def transpose_conv(a: Analysis, op: Op) -> None:
    """Inputs (output_shape, weights OHWI, data, bias); the output_shape constant follows the output."""
    w, x, y = op.inputs[1], op.inputs[2], op.outputs[0]
    xi = a.of(x)
    if (xi is None or not _weights_ok(op, 1, 3) or not tracked(y) or x.shape[-1] != w.shape[3]
            or not op.inputs[0].is_constant):
        return a.opaque(op)
    a.fresh(y)
    a.consumers.append(Consumer(op, 2, 1, 3))
    a.slice(op, 1, 3, x)
    a.slice(op, 1, 0, y)
    a.slice(op, 3, 0, y)
    a.producers[id(y)] = op


def passthrough(a: Analysis, op: Op) -> None:
    """Input 0's channels come out unchanged (other inputs are sizes, paddings, axes)."""
    xi = a.of(op.inputs[0])
    if xi is None:
        return a.opaque(op)
    a.same(op.outputs[0], xi)


def pad(a: Analysis, op: Op) -> None:
    paddings = op.inputs[1]
    if paddings is None or not paddings.is_constant or np.any(np.asarray(paddings.data)[-1] != 0):
        return a.opaque(op)
    passthrough(a, op)


def prelu(a: Analysis, op: Op) -> None:
    y = op.outputs[0]
    if not _float_constant(op.inputs[1]):
        return a.opaque(op)
    passthrough(a, op)
    a.slice(op, 1, -1, y)


def elementwise(a: Analysis, op: Op) -> None:
    """Inputs carrying the output's channel count are unified; constants along it are cut with it."""
    y = op.outputs[0]
    runtime = [t for t in op.inputs if t is not None and not t.is_constant]
    if not tracked(y) or not y.rank or any(a.of(t) is None for t in runtime):
        return a.opaque(op)
    c = y.shape[-1]
    for i, t in enumerate(op.inputs):
        if t is not None and t.is_constant and t.rank and t.shape[-1] == c:
            a.slice(op, i, -1, y)
    carriers = [a.of(t) for t in runtime if t.rank and t.shape[-1] == c]
    if not carriers:
        a.fresh(y, pinned=True)
        return None
    for ids in carriers[1:]:
        a.unify(carriers[0], ids)
    a.same(y, carriers[0])


def concatenation(a: Analysis, op: Op) -> None:
    y = op.outputs[0]
    if not tracked(y) or any(t is not None and not t.is_constant and a.of(t) is None for t in op.inputs):
        return a.opaque(op)
    axis = op.options["axis"] % y.rank
    if axis == y.rank - 1:
        parts = [a.of(t) if not t.is_constant else a.pinned_ids(t.shape[-1]) for t in op.inputs]
        a.same(y, np.concatenate(parts))
        return None
    elementwise(a, op)


def reduce(a: Analysis, op: Op) -> None:
    x, axes = op.inputs[0], op.inputs[1]
    if a.of(x) is None or axes is None or not axes.is_constant or not x.rank:
        return a.opaque(op)
    if (x.rank - 1) in {int(v) % x.rank for v in np.ravel(axes.data)}:
        return a.opaque(op)
    passthrough(a, op)


def reshape(a: Analysis, op: Op) -> None:
    """The channel stays the fastest-varying index when the new last dim is a multiple of it."""
    x, y = op.inputs[0], op.outputs[0]
    xi = a.of(x)
    if xi is None or not tracked(y) or not x.rank or not y.rank or y.shape[-1] % max(x.shape[-1], 1):
        return a.opaque(op)
    a.same(y, np.tile(xi, y.shape[-1] // x.shape[-1]))


def transpose(a: Analysis, op: Op) -> None:
    perm = op.inputs[1]
    x = op.inputs[0]
    if perm is None or not perm.is_constant or a.of(x) is None or int(np.ravel(perm.data)[-1]) % x.rank != x.rank - 1:
        return a.opaque(op)
    passthrough(a, op)


UNARY = ("RELU", "RELU6", "RELU_N1_TO_1", "RELU_0_TO_1", "LOGISTIC", "TANH", "HARD_SWISH", "ELU", "LEAKY_RELU",
         "GELU", "ABS", "NEG", "EXP", "LOG", "SQRT", "RSQRT", "SQUARE", "SIN", "COS", "FLOOR", "CEIL", "ROUND",
         "SIGN", "AVERAGE_POOL_2D", "MAX_POOL_2D", "L2_POOL_2D", "RESIZE_BILINEAR", "RESIZE_NEAREST_NEIGHBOR")
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
    **{t: passthrough for t in UNARY},
    **{t: elementwise for t in BINARY},
    **{t: reduce for t in REDUCE},
    **{t: reshape for t in SHAPE},
}
