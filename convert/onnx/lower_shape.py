"""ONNX shape, indexing and constant-making ops -> TFLite RESHAPE, SLICE, GATHER, PAD... or constants.

Shape arithmetic folds as the graph is built: Shape of a static tensor is a constant, and `ctx.emit` folds
every op whose inputs are constant, so Shape -> Gather -> Concat -> Reshape chains leave only the RESHAPE.
Index and shape operands TFLite reads (RESHAPE shape, SLICE begin/size, GATHER indices...) are int32;
ONNX's int64 values stay int64 where they are data.
"""
from __future__ import annotations

import numpy as np
import onnx
from onnx import numpy_helper

from .context import FOLD_LIMIT
from .lower_elementwise import (INT32, binary, broadcast_shape, cast, check_kernel_dtype, producer, reshape,
                                result_shape)

# ONNX Slice ends at or beyond these mean "to the end" (exporters write INT64_MAX / INT32_MAX).
PAST_END = INT32[1]
CAST_TARGETS = frozenset({"float32", "float16", "float64", "int8", "uint8", "int16", "uint16", "int32",
                          "uint32", "int64", "bool"})


def int32_const(ctx, values, hint):
    return ctx.const(np.clip(np.asarray(values, np.int64), *INT32).astype(np.int32), hint=hint)


def normalize_axis(ctx, axis: int, rank: int) -> int:
    if not -rank <= axis < rank:
        ctx.fail(f"axis {axis} is out of range for rank {rank}")
    return int(axis) + rank if axis < 0 else int(axis)


def axes_arg(ctx, attr_until: int, input_index: int):
    """`axes` from the attribute (opsets < attr_until) or from an input (since): None when absent."""
    if ctx.opset < attr_until:
        axes = ctx.attrs().get("axes")
    else:
        axes = ctx.const_input(input_index, "axes")
    return None if axes is None else [int(a) for a in np.asarray(axes).reshape(-1)]


# -- Reshape family ------------------------------------------------------------------------------------
def lower_reshape(ctx, node):
    x, spec_t = ctx.inputs()[:2]
    out = node.output[0]
    if spec_t.data is None:
        known = ctx.output_info(out)[0]
        if known is None or sum(d is None for d in known) > 1:
            ctx.fail("the target shape is computed at run time and shape inference cannot tell it; give "
                     "static input shapes with --input-shape")
        reshape(ctx, x, known, out=out)
        return
    reshape(ctx, x, reshape_target(x.shape, spec_t.data, ctx.attrs().get("allowzero", 0)), out=out)


def reshape_target(in_shape: tuple, spec, allowzero: int) -> tuple:
    """The output shape of ONNX Reshape (None for dims unknown here): 0 copies the input dim unless
    allowzero, -1 takes what is left."""
    dims = [int(d) for d in np.asarray(spec).reshape(-1)]
    out = [in_shape[i] if d == 0 and not allowzero else d for i, d in enumerate(dims)]
    if -1 in out:
        i = out.index(-1)
        rest = [d for j, d in enumerate(out) if j != i]
        total = None if None in in_shape else int(np.prod(in_shape, dtype=np.int64))
        out[i] = None if total is None or None in rest else total // max(1, int(np.prod(rest, dtype=np.int64)))
    return tuple(out)


def lower_flatten(ctx, node):
    x = ctx.input(0)
    axis = ctx.attrs().get("axis", 1)
    axis = axis + x.rank if axis < 0 else axis  # ONNX Flatten's axis ranges over [-rank, rank]
    reshape(ctx, x, (product(x.shape[:axis]), product(x.shape[axis:])), out=node.output[0])


def product(dims) -> int | None:
    return None if None in dims else int(np.prod(dims, dtype=np.int64))


def lower_squeeze(ctx, node):
    x = ctx.input(0)
    out = node.output[0]
    axes = axes_arg(ctx, 13, 1)
    if axes is None:
        if not x.static:
            ctx.fail("Squeeze without axes needs every input dimension; give --input-shape")
        axes = [i for i, d in enumerate(x.shape) if d == 1]
    axes = sorted(normalize_axis(ctx, a, x.rank) for a in axes)
    shape = tuple(d for i, d in enumerate(x.shape) if i not in axes)
    if sum(d is None for d in shape) <= 1:
        reshape(ctx, x, shape, out=out)
    else:
        ctx.emit("SQUEEZE", [x], {"squeeze_dims": axes}, out=out, shape=result_shape(ctx, out, shape))


def lower_unsqueeze(ctx, node):
    x = ctx.input(0)
    out = node.output[0]
    axes = axes_arg(ctx, 13, 1)
    rank = x.rank + len(axes)
    axes = sorted(normalize_axis(ctx, a, rank) for a in axes)
    dims = iter(x.shape)
    shape = tuple(1 if i in axes else next(dims) for i in range(rank))
    if sum(d is None for d in shape) <= 1:
        reshape(ctx, x, shape, out=out)
        return
    y = x
    for n, a in enumerate(axes):  # ascending, so each axis indexes the final layout
        y = ctx.emit("EXPAND_DIMS", [y, int32_const(ctx, a, "axis")], out=out if n == len(axes) - 1 else None,
                     shape=y.shape[:a] + (1,) + y.shape[a:])


def lower_transpose(ctx, node):
    x = ctx.input(0)
    perm = ctx.attrs().get("perm", list(reversed(range(x.rank))))
    ctx.transpose(x, perm, out=node.output[0])


# -- joining and splitting -----------------------------------------------------------------------------
def lower_concat(ctx, node):
    parts = [t for t in ctx.inputs() if t is not None]
    out = node.output[0]
    axis = normalize_axis(ctx, ctx.attrs()["axis"], parts[0].rank)
    # Empty pieces (shape math often concatenates an empty list) contribute nothing.
    parts = [t for t in parts if t.shape[axis] != 0] or parts[:1]
    if len(parts) == 1:
        ctx.bind(out, parts[0])
        return
    check_kernel_dtype(ctx, "CONCATENATION", parts)
    sizes = [t.shape[axis] for t in parts]
    shape = list(broadcast_shape(*(t.shape[:axis] + (1,) + t.shape[axis + 1:] for t in parts)))
    shape[axis] = None if None in sizes else sum(sizes)
    ctx.emit("CONCATENATION", parts, {"axis": axis}, out=out, shape=result_shape(ctx, out, tuple(shape)))


def lower_split(ctx, node):
    x = ctx.input(0)
    a = ctx.attrs()
    outs = list(node.output)
    axis = normalize_axis(ctx, a.get("axis", 0), x.rank)
    sizes = a.get("split") if ctx.opset < 13 else ctx.const_input(1, "split")
    dim = x.shape[axis]
    n = len(outs)
    if sizes is None and dim is not None and dim % n:
        if ctx.opset < 18:
            ctx.fail(f"axis {axis} of size {dim} does not split into {n} equal parts")
        chunk = -(-dim // n)  # opset 18: every part ceil(dim / n), the last one what is left
        sizes = [chunk] * (n - 1) + [dim - chunk * (n - 1)]
    shapes = [result_shape(ctx, o, x.shape[:axis] + (s,) + x.shape[axis + 1:])
              for o, s in zip(outs, sizes if sizes is not None else [None if dim is None else dim // n] * n)]
    if sizes is None:
        ctx.emit("SPLIT", [int32_const(ctx, axis, "axis"), x], {"num_splits": n}, out=outs, shape=shapes)
    else:
        sizes = [int(s) for s in np.asarray(sizes).reshape(-1)]
        ctx.emit("SPLIT_V", [x, int32_const(ctx, sizes, "sizes"), int32_const(ctx, axis, "axis")],
                 {"num_splits": n}, out=outs, shape=shapes)


# -- slicing and gathering -----------------------------------------------------------------------------
def lower_slice(ctx, node):
    x = ctx.input(0)
    out = node.output[0]
    starts, ends = (ctx.const_input(i, n) for i, n in ((1, "starts"), (2, "ends")))
    axes = ctx.const_input(3, "axes")
    steps = ctx.const_input(4, "steps")
    axes = range(len(starts)) if axes is None else [normalize_axis(ctx, int(a), x.rank) for a in axes]
    steps = [1] * len(starts) if steps is None else [int(s) for s in steps]
    if 0 in steps:
        ctx.fail("a step of 0 is invalid")
    plan = {a: (int(s), int(e), st) for a, s, e, st in zip(axes, starts, ends, steps)}
    known = shape_values(ctx, x)
    if known is not None:  # a slice of a SHAPE: constant when the dims it keeps are static
        s, e, st = plan[0]
        picked = [known[i] for i in range(*clamp_slice(s, e, st, len(known)), st)]
        if None not in picked:
            ctx.bind(out, ctx.const(np.array(picked, x.dtype), hint="dims"))
            return
    emit_slice(ctx, x, plan, out)


def emit_slice(ctx, x, plan: dict, out=None):
    """Slice x by ONNX rules; plan: axis -> (start, end, step). SLICE when every step is 1 and sizes are
    known, else STRIDED_SLICE whose end_mask stands for "through the end" (or the start, stepping back)."""
    begin, end, strides, shape = [0] * x.rank, [0] * x.rank, [1] * x.rank, list(x.shape)
    end_mask = 0
    for axis in range(x.rank):
        if axis not in plan:
            end_mask |= 1 << axis
            continue
        s, e, st = plan[axis]
        dim = x.shape[axis]
        if dim is not None:
            s, e = clamp_slice(s, e, st, dim)
            shape[axis] = len(range(s, e, st))
        else:
            s = int(np.clip(s, *INT32))
            shape[axis] = None
        last = (dim, 0) if dim is not None else (PAST_END, INT32[0] + 1)
        through = e >= last[0] if st > 0 else e < last[1]
        if through:
            end_mask |= 1 << axis
        begin[axis], end[axis], strides[axis] = s, 0 if through else int(np.clip(e, *INT32)), st
    shape = result_shape(ctx, out, tuple(shape))
    simple = all(st == 1 for st in strides) and all(
        begin[a] >= 0 and (end_mask >> a & 1 or x.shape[a] is not None) for a in range(x.rank))
    if simple:
        size = [-1 if end_mask >> a & 1 else max(0, end[a] - begin[a]) for a in range(x.rank)]
        return ctx.emit("SLICE", [x, int32_const(ctx, begin, "begin"), int32_const(ctx, size, "size")],
                        out=out, shape=shape)
    return ctx.emit("STRIDED_SLICE", [x, int32_const(ctx, begin, "begin"), int32_const(ctx, end, "end"),
                                      int32_const(ctx, strides, "strides")],
                    {"end_mask": end_mask}, out=out, shape=shape)


def clamp_slice(s: int, e: int, st: int, dim: int) -> tuple:
    """ONNX Slice bounds on a dimension of known size: negatives count from the end, then clamp
    ([0, dim] stepping forward, [-1, dim - 1] stepping back; -1 = before the first element)."""
    s, e = (v + dim if v < 0 else v for v in (s, e))
    if st > 0:
        return min(max(s, 0), dim), min(max(e, 0), dim)
    return min(max(s, 0), dim - 1), min(max(e, -1), dim - 1)


def lower_gather(ctx, node):
    data, idx = ctx.inputs()
    out = node.output[0]
    axis = normalize_axis(ctx, ctx.attrs().get("axis", 0), data.rank)
    dim = data.shape[axis]
    shape = data.shape[:axis] + idx.shape + data.shape[axis + 1:]
    if idx.data is not None:
        values = idx.data.astype(np.int64)
        if (values < 0).any():
            if dim is None:
                ctx.fail(f"negative indices need the size of axis {axis}; give --input-shape")
            values = np.where(values < 0, values + dim, values)
        known = shape_values(ctx, data)
        if known is not None and all(known[i] is not None for i in values.reshape(-1)):
            ctx.bind(out, ctx.const(np.array([known[i] for i in values.reshape(-1)], data.dtype)
                                    .reshape(values.shape), hint="dims"))
            return
        indices = int32_const(ctx, values, "indices")
    elif dim is not None:
        # TFLite GATHER rejects negative indices; ONNX counts them from the end.
        indices = binary(ctx, "FLOOR_MOD", idx, ctx.const(np.array(dim, idx.dtype), hint="dim"))
    else:
        indices = idx  # negative run-time indices on a dynamic axis are rejected by TFLite at run time
    check_kernel_dtype(ctx, "GATHER", (data,))
    ctx.emit("GATHER", [data, indices], {"axis": axis}, out=out, shape=result_shape(ctx, out, shape))


def shape_values(ctx, t):
    """The values of a 1-D tensor made by SHAPE, None for the dims unknown until run time; else None."""
    if t.data is not None or t.rank != 1 or t.dtype not in ("int32", "int64"):
        return None
    op = producer(ctx, t)
    return list(op.inputs[0].shape) if op is not None and op.type == "SHAPE" else None


def lower_shape(ctx, node):
    x = ctx.input(0)
    a = ctx.attrs()
    out = node.output[0]
    rank = x.rank
    start, end = (max(0, min(rank, v + rank if v < 0 else v)) for v in (a.get("start", 0), a.get("end", rank)))
    dims = x.shape[start:end]
    if None not in dims:
        ctx.bind(out, ctx.const(np.array(dims, np.int64), hint="shape"))
        return
    full = ctx.emit("SHAPE", [x], {"out_type": "INT64"}, out=out if (start, end) == (0, rank) else None,
                    shape=(rank,), dtype="int64")
    if (start, end) != (0, rank):
        emit_slice(ctx, full, {0: (start, end, 1)}, out)


def lower_size(ctx, node):
    x = ctx.input(0)
    if not x.static:
        ctx.fail("Size of a tensor with dimensions unknown until run time; give --input-shape")
    ctx.bind(node.output[0], ctx.const(np.array(product(x.shape), np.int64), hint="size"))


# -- padding, expanding, tiling ------------------------------------------------------------------------
def lower_pad(ctx, node):
    x = ctx.input(0)
    out = node.output[0]
    mode = ctx.attrs().get("mode", "constant")
    pads = ctx.const_input(1, "pads").astype(np.int64).reshape(-1)
    value = ctx.input(2)
    axes = ctx.const_input(3, "axes")
    axes = range(x.rank) if axes is None else [normalize_axis(ctx, int(a), x.rank) for a in axes]
    before, after = np.zeros(x.rank, np.int64), np.zeros(x.rank, np.int64)
    before[list(axes)], after[list(axes)] = pads[:len(axes)], pads[len(axes):]
    if (before < 0).any() or (after < 0).any():
        x = crop(ctx, x, np.minimum(before, 0), np.minimum(after, 0))
        before, after = np.maximum(before, 0), np.maximum(after, 0)
    padded = tuple(None if d is None else d + int(b + e) for d, b, e in zip(x.shape, before, after))
    shape = result_shape(ctx, out, padded)
    if not (before.any() or after.any()):
        ctx.bind(out, x)
    elif mode == "constant":
        paddings = int32_const(ctx, np.stack([before, after], axis=1), "paddings")
        if value is None or (value.data is not None and not value.data.any()):
            ctx.emit("PAD", [x, paddings], out=out, shape=shape)
        else:
            ctx.emit("PADV2", [x, paddings, value], out=out, shape=shape)
    elif mode == "reflect":
        ctx.emit("MIRROR_PAD", [x, int32_const(ctx, np.stack([before, after], axis=1), "paddings")],
                 {"mode": "REFLECT"}, out=out, shape=shape)
    elif mode in ("edge", "wrap"):
        gather_pad(ctx, x, before, after, mode, out)
    else:
        ctx.fail(f"unknown mode '{mode}'")


def crop(ctx, x, before, after):
    """Negative pads remove elements: a SLICE."""
    plan = {a: (int(-b), int(x.shape[a] + e) if x.shape[a] is not None else (int(e) if e else PAST_END), 1)
            for a, (b, e) in enumerate(zip(before, after)) if b or e}
    return emit_slice(ctx, x, plan)


def gather_pad(ctx, x, before, after, mode: str, out):
    """Edge padding repeats the border element, wrap padding the opposite side: per padded axis one GATHER
    of the index list clip(i) / i mod n for i in [-before, n + after)."""
    axes = [a for a in range(x.rank) if before[a] or after[a]]
    y = x
    for n, a in enumerate(axes):
        dim = x.shape[a]
        if dim is None:
            ctx.fail(f"{mode} padding needs the size of axis {a}; give --input-shape")
        i = np.arange(-before[a], dim + after[a])
        indices = np.clip(i, 0, dim - 1) if mode == "edge" else np.mod(i, dim)
        shape = y.shape[:a] + (len(i),) + y.shape[a + 1:]
        y = ctx.emit("GATHER", [y, int32_const(ctx, indices, "indices")], {"axis": a},
                     out=out if n == len(axes) - 1 else None, shape=shape)
    return y


def lower_expand(ctx, node):
    x, spec_t = ctx.inputs()
    out = node.output[0]
    if spec_t.data is not None:
        shape = broadcast_shape(x.shape, tuple(int(d) for d in spec_t.data))
    else:
        shape = ctx.output_info(out)[0]
        if shape is None or None in shape:
            ctx.fail("the target shape is computed at run time; give static input shapes with --input-shape")
    shape = result_shape(ctx, out, shape)
    if shape == x.shape:
        ctx.bind(out, x)
        return
    if None in shape:
        ctx.fail(f"cannot expand '{x.name}' to a shape with unknown dims; give --input-shape")
    ctx.emit("BROADCAST_TO", [x, int32_const(ctx, shape, "shape")], out=out, shape=shape)


def lower_tile(ctx, node):
    x = ctx.input(0)
    out = node.output[0]
    repeats = ctx.const_input(1, "repeats").astype(np.int64).reshape(-1)
    shape = tuple(None if d is None else d * int(r) for d, r in zip(x.shape, repeats))
    if (repeats == 1).all():
        ctx.bind(out, x)
        return
    ctx.emit("TILE", [x, int32_const(ctx, repeats, "repeats")], out=out, shape=result_shape(ctx, out, shape))


# -- making values -------------------------------------------------------------------------------------
def lower_constant(ctx, node):
    name, value = next(iter(ctx.attrs().items()))
    ctx.bind(node.output[0], ctx.const(constant_value(ctx, name, value), hint="value"))


def constant_value(ctx, name: str, value) -> np.ndarray:
    if name == "value":
        return numpy_helper.to_array(value)
    if name == "sparse_value":
        dense = np.zeros(tuple(value.dims), onnx.helper.tensor_dtype_to_np_dtype(value.values.data_type))
        idx = numpy_helper.to_array(value.indices).astype(np.int64)
        flat_idx = idx if idx.ndim == 1 else np.ravel_multi_index(tuple(idx.T), dense.shape)
        dense.reshape(-1)[flat_idx] = numpy_helper.to_array(value.values)
        return dense
    converters = {"value_float": np.float32, "value_floats": np.float32, "value_int": np.int64,
                  "value_ints": np.int64}
    if name not in converters:
        ctx.fail(f"attribute '{name}' (string constants) is not supported")
    return np.array(value, converters[name])


def lower_constant_of_shape(ctx, node):
    dims_t = ctx.input(0)
    out = node.output[0]
    value = ctx.attrs().get("value")
    fill = numpy_helper.to_array(value).reshape(-1)[:1] if value is not None else np.zeros(1, np.float32)
    if dims_t.data is not None and product(dims_t.data.tolist()) <= FOLD_LIMIT:
        ctx.bind(out, ctx.const(np.full(tuple(int(d) for d in dims_t.data), fill[0], fill.dtype), hint="value"))
        return
    shape = tuple(int(d) for d in dims_t.data) if dims_t.data is not None else (None,) * (dims_t.shape[0] or 0)
    shape = result_shape(ctx, out, shape)
    ctx.emit("FILL", [dims_t, ctx.const(fill.reshape(()), hint="value")], out=out, shape=shape,
             dtype=str(fill.dtype))


def lower_cast(ctx, node):
    to = ctx.attrs()["to"]
    cast_to(ctx, ctx.input(0), np.dtype(onnx.helper.tensor_dtype_to_np_dtype(to)).name, node.output[0],
            onnx.TensorProto.DataType.Name(to))


def lower_cast_like(ctx, node):
    like = ctx.input(1)
    cast_to(ctx, ctx.input(0), like.dtype, node.output[0], like.dtype)


def cast_to(ctx, x, dtype: str, out: str, type_name: str):
    if dtype not in CAST_TARGETS:
        ctx.fail(f"cast to {type_name} is not supported by TFLite")
    if dtype == x.dtype:
        ctx.bind(out, x)
    elif x.data is not None:
        ctx.bind(out, ctx.const(x.data.astype(dtype), hint="cast"))
    else:
        cast(ctx, x, dtype, out=out)


def lower_range(ctx, node):
    start, limit, delta = ctx.inputs()
    out = node.output[0]
    if all(t.data is not None for t in (start, limit, delta)):
        ctx.bind(out, ctx.const(np.arange(start.data.item(), limit.data.item(), delta.data.item(),
                                                 dtype=start.dtype), hint="range"))
        return
    ctx.emit("RANGE", [start, limit, delta], out=out, shape=result_shape(ctx, out, (None,)))


LOWERINGS = {
    "Reshape": lower_reshape,
    "Flatten": lower_flatten,
    "Squeeze": lower_squeeze,
    "Unsqueeze": lower_unsqueeze,
    "Transpose": lower_transpose,
    "Concat": lower_concat,
    "Split": lower_split,
    "Slice": lower_slice,
    "Gather": lower_gather,
    "Shape": lower_shape,
    "Size": lower_size,
    "Pad": lower_pad,
    "Expand": lower_expand,
    "Tile": lower_tile,
    "Constant": lower_constant,
    "ConstantOfShape": lower_constant_of_shape,
    "Cast": lower_cast,
    "CastLike": lower_cast_like,
    "Range": lower_range,
}
