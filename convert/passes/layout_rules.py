"""The layout pass's table: how a layout-agnostic op runs on tensors stored in a permuted layout.

A tensor stored with permutation L holds np.transpose(logical, L): stored axis i is logical axis L[i], and
logical axis a sits at stored position inv(L)[a]. For each op type a Rule says
  link(op)          -> (input indices, output indices) that carry the layout, or None if this instance
                       cannot take part (e.g. a non-constant operand of lower rank);
  accepts(op, L)    -> whether the op can run on its linked tensors stored with L;
  rewrite(op, L, new) -> adjust options and constant operands so the op maps stored inputs to stored
                       outputs; `new` makes tensors (constants may be shared, so they are never edited).
                       It may return ops to run right after `op`.
Anything not in RULES, and not an edge (layout_edges: TRANSPOSE, reshapes of size-1 dims), needs its tensors
in their logical layout.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from ..ir import Op, Tensor
from .perms import inverse


def stored_axis(axis: int, perm, rank: int) -> int:
    return inverse(perm)[axis % rank]


def is_unit(t: Tensor) -> bool:
    return t.static and all(d == 1 for d in t.shape)


def permute_constant(data: np.ndarray, perm, rank: int) -> np.ndarray:
    """A broadcasting operand in the stored layout: right-align it to `rank` as NumPy broadcasting does,
    permute, then drop the leading 1s that were only added for the alignment."""
    aligned = data.reshape((1,) * (rank - data.ndim) + data.shape)
    moved = np.transpose(aligned, perm)
    lead = 0
    while lead < rank - data.ndim and moved.shape[lead] == 1:
        lead += 1
    return np.ascontiguousarray(moved.reshape(moved.shape[lead:]))


@dataclass(frozen=True)
class Rule:
    link: Callable
    accepts: Callable = lambda op, perm: True
    rewrite: Callable = lambda op, perm, new: None


# -- link -----------------------------------------------------------------------------------------------

def link_elementwise(op: Op):
    """Every non-constant operand of the output's rank carries the layout; lower-rank operands must be
    constant (they are permuted) or all-ones (they broadcast the same in any layout)."""
    rank = op.outputs[0].rank
    linked = []
    for i, t in enumerate(op.inputs):
        if t is None:
            continue
        if t.is_constant:
            if t.quant is not None and t.quant.per_axis:
                return None  # its quantization axis would move with the data; left to the weight ops
            continue
        if t.rank == rank:
            linked.append(i)
        elif not is_unit(t):
            return None
    return linked, list(range(len(op.outputs)))


def link_first(op: Op):
    """Input 0 carries the layout into every output; other inputs are parameters."""
    if op.inputs[0] is None or any(t.rank != op.inputs[0].rank for t in op.outputs):
        return None
    return [0], list(range(len(op.outputs)))


def with_constants(*indices):
    """link_first, for ops whose parameter inputs at `indices` must be constant to be rewritten."""
    def link(op: Op):
        if any(i >= len(op.inputs) or op.inputs[i] is None or not op.inputs[i].is_constant for i in indices):
            return None
        return link_first(op)
    return link


def link_reducer(axes_index: int, keep_option: str | None):
    """Reductions: the output carries the layout only when reduced axes are kept (rank unchanged)."""
    def link(op: Op):
        axes = op.inputs[axes_index] if axes_index < len(op.inputs) else None
        if op.inputs[0] is None or axes is None or not axes.is_constant:
            return None
        keeps = keep_option is not None and op.options[keep_option]
        return [0], [0] if keeps else []
    return link


def link_split(data_index: int, axis_index: int):
    def link(op: Op):
        if not op.inputs[axis_index].is_constant or op.inputs[data_index].is_constant:
            return None
        return [data_index], list(range(len(op.outputs)))
    return link


def link_gather(op: Op):
    indices = op.inputs[1]
    if op.options["batch_dims"] != 0 or indices.rank != 1 or op.inputs[0].is_constant:
        return None
    return [0], [0]


# -- accepts --------------------------------------------------------------------------------------------

def last_axis_stays(op: Op, perm) -> bool:
    return perm[-1] == len(perm) - 1


def reduced_axes(op: Op, axes_index: int) -> set:
    rank = op.inputs[0].rank
    return {int(a) % rank for a in np.atleast_1d(op.inputs[axes_index].data)}


def kept_in_order(axes_index: int, keep_option: str | None):
    """Dropping reduced axes leaves the kept ones in stored order; that is their logical order (the
    output needs no layout) only if the permutation keeps them in increasing order."""
    def accepts(op: Op, perm) -> bool:
        if keep_option is not None and op.options[keep_option]:
            return True
        dropped = reduced_axes(op, axes_index)
        kept = [a for a in perm if a not in dropped]
        return kept == sorted(kept)
    return accepts


def plain_strided_slice(op: Op, perm) -> bool:
    o = op.options
    return not (o["ellipsis_mask"] or o["new_axis_mask"] or o["shrink_axis_mask"])


# -- rewrite --------------------------------------------------------------------------------------------

def rewrite_operands(op: Op, perm, new) -> None:
    """Permute constant broadcasting operands (all-ones ones broadcast the same in any layout)."""
    rank = len(perm)
    for i, t in enumerate(op.inputs):
        if t is not None and t.is_constant and not is_unit(t):
            op.inputs[i] = new.constant(t, permute_constant(t.data, perm, rank))


def rewrite_axis_option(op: Op, perm, new) -> None:
    op.options["axis"] = stored_axis(op.options["axis"], perm, len(perm))


def rewrite_concatenation(op: Op, perm, new) -> None:
    rewrite_operands(op, perm, new)
    rewrite_axis_option(op, perm, new)


def rewrite_axis_input(index: int, sort: bool = False):
    def rewrite(op: Op, perm, new) -> None:
        t = op.inputs[index]
        rank = len(perm)
        axes = [stored_axis(int(a), perm, rank) for a in np.atleast_1d(t.data)]
        value = np.array(sorted(axes) if sort else axes, t.dtype).reshape(t.data.shape)
        op.inputs[index] = new.constant(t, value)
    return rewrite


def rewrite_rows(*indices):
    """Inputs holding one entry (or row) per axis: begin/size/paddings/multiples/shape."""
    def rewrite(op: Op, perm, new) -> None:
        for i in indices:
            t = op.inputs[i]
            op.inputs[i] = new.constant(t, np.ascontiguousarray(t.data[list(perm)]))
    return rewrite


def rewrite_shape(op: Op, perm, new) -> list[Op]:
    """SHAPE of a permuted tensor lists its dims in stored order; a GATHER puts them back in logical
    order, so the shape arithmetic after it (dynamic resize sizes, reshapes) is unchanged."""
    out = op.outputs[0]
    op.outputs[0] = new.tensor(out)
    order = new.constant(out, np.array(inverse(perm), np.int32))
    return [Op("GATHER", [op.outputs[0], order], [out], {"axis": 0}, sources=list(op.sources))]


def rewrite_strided_slice(op: Op, perm, new) -> None:
    rewrite_rows(1, 2, 3)(op, perm, new)
    for mask in ("begin_mask", "end_mask"):
        bits = op.options[mask]
        op.options[mask] = sum(1 << i for i, a in enumerate(perm) if bits >> a & 1)


ELEMENTWISE = Rule(link_elementwise, rewrite=rewrite_operands)
LAST_AXIS = Rule(link_first, accepts=last_axis_stays)


def reducer(axes_index: int = 1, keep_option: str | None = "keep_dims") -> Rule:
    return Rule(link_reducer(axes_index, keep_option), accepts=kept_in_order(axes_index, keep_option),
                rewrite=rewrite_axis_input(axes_index, sort=True))


UNARY = ("ABS", "CEIL", "COS", "ELU", "EXP", "FLOOR", "GELU", "HARD_SWISH", "LEAKY_RELU", "LOG", "LOGISTIC",
         "NEG", "RELU", "RELU6", "RELU_N1_TO_1", "RELU_0_TO_1", "ROUND", "RSQRT", "SIN", "SQRT", "SQUARE",
         "TANH", "SIGN", "LOGICAL_NOT", "CAST", "QUANTIZE", "DEQUANTIZE", "ZEROS_LIKE", "ONES_LIKE")
BINARY = ("ADD", "SUB", "MUL", "DIV", "FLOOR_DIV", "FLOOR_MOD", "MAXIMUM", "MINIMUM", "POW",
          "SQUARED_DIFFERENCE", "EQUAL", "NOT_EQUAL", "LESS", "LESS_EQUAL", "GREATER", "GREATER_EQUAL",
          "LOGICAL_AND", "LOGICAL_OR", "SELECT_V2", "PRELU", "ADD_N", "ATAN2")

RULES = {
    **{name: ELEMENTWISE for name in UNARY + BINARY},
    "CONCATENATION": Rule(link_elementwise, rewrite=rewrite_concatenation),
    "SPLIT": Rule(link_split(1, 0), rewrite=rewrite_axis_input(0)),
    "SPLIT_V": Rule(link_split(0, 2), rewrite=rewrite_axis_input(2)),
    "MEAN": reducer(), "SUM": reducer(), "REDUCE_PROD": reducer(), "REDUCE_MAX": reducer(),
    "REDUCE_MIN": reducer(), "REDUCE_ANY": reducer(), "REDUCE_ALL": reducer(),
    "ARG_MAX": reducer(keep_option=None), "ARG_MIN": reducer(keep_option=None),
    "PAD": Rule(with_constants(1), rewrite=rewrite_rows(1)),
    "PADV2": Rule(with_constants(1), rewrite=rewrite_rows(1)),
    "MIRROR_PAD": Rule(with_constants(1), rewrite=rewrite_rows(1)),
    "SLICE": Rule(with_constants(1, 2), rewrite=rewrite_rows(1, 2)),
    "STRIDED_SLICE": Rule(with_constants(1, 2, 3), accepts=plain_strided_slice, rewrite=rewrite_strided_slice),
    "TILE": Rule(with_constants(1), rewrite=rewrite_rows(1)),
    "BROADCAST_TO": Rule(with_constants(1), rewrite=rewrite_rows(1)),
    "REVERSE_V2": Rule(with_constants(1), rewrite=rewrite_axis_input(1)),
    "CUMSUM": Rule(with_constants(1), rewrite=rewrite_axis_input(1)),
    "GATHER": Rule(link_gather, rewrite=rewrite_axis_option),
    "SHAPE": Rule(lambda op: ([0], []), rewrite=rewrite_shape),
    "SOFTMAX": LAST_AXIS,
    "LOG_SOFTMAX": LAST_AXIS,
    "L2_NORMALIZATION": LAST_AXIS,
    "LOCAL_RESPONSE_NORMALIZATION": LAST_AXIS,
}
