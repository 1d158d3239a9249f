"""Fold constants: evaluate ops whose inputs are all constant, and drop ops that do nothing.

Folding uses the reference evaluator, so a folded value is exactly what the op would have computed.
A no-op (RESHAPE to the shape it already has, identity TRANSPOSE, CAST to the same type, ...) is removed by
rewiring its readers to its input; a graph output keeps its tensor and name (see Uses.bypass).
"""
from __future__ import annotations

import numpy as np

from ..ir import Op, Tensor
from ..reference import REFERENCE, evaluate_op
from .edit import SHAPE_ONLY, Uses, graphs_of, merge_sources, same_quant

# Ops with effects beyond their outputs, or whose value is not a function of their inputs.
STATEFUL = frozenset({
    "VAR_HANDLE", "READ_VARIABLE", "ASSIGN_VARIABLE", "CALL_ONCE", "WHILE", "IF", "CALL",
    "RANDOM_UNIFORM", "RANDOM_STANDARD_NORMAL", "MULTINOMIAL", "HASHTABLE", "HASHTABLE_FIND",
    "HASHTABLE_IMPORT", "HASHTABLE_SIZE",
})
# Ops that exist to keep a model small (compressed or generated weights): folded only when the result
# stays small, otherwise the file would grow by the expansion they were put there to avoid.
EXPANDING = frozenset({"DEQUANTIZE", "DENSIFY", "TILE", "BROADCAST_TO", "FILL"})
SMALL = 1024  # elements
FOLD_LIMIT = 1 << 22  # elements; larger results stay ops


def run(model_or_graph) -> bool:
    changed = False
    for graph in graphs_of(model_or_graph):
        uses = Uses(graph)
        for op in list(graph.ops):
            changed |= fold(op, uses) or drop_noop(op, uses) or merge_reshapes(op, uses)
    return changed


def foldable(op: Op) -> bool:
    return (op.type in REFERENCE and op.type not in STATEFUL and bool(op.outputs)
            and all(t is None or (t.is_constant and not t.is_variable and t.sparsity is None)
                    for t in op.inputs))


def fold(op: Op, uses: Uses) -> bool:
    if not foldable(op):
        return False
    limit = SMALL if op.type in EXPANDING else FOLD_LIMIT
    if any(t.static and np.prod(t.shape, dtype=np.int64) > limit for t in op.outputs):
        return False  # known too large without computing it
    values = evaluate_op(op, [None if t is None else t.data for t in op.inputs])
    if any(v.size > limit for v in values):
        return False
    uses.remove(op)
    for t, v in zip(op.outputs, values):
        t.data, t.shape, t.dtype = np.ascontiguousarray(v), v.shape, str(v.dtype)
        merge_sources(t.sources, op.sources)
    return True


def drop_noop(op: Op, uses: Uses) -> bool:
    test = NOOPS.get(op.type)
    if test is None or len(op.outputs) != 1 or not op.inputs or op.inputs[0] is None:
        return False
    src, dst = op.inputs[0], op.outputs[0]
    if src.is_constant or not same_tensor_type(src, dst) or not test(op):
        return False
    return uses.bypass(op, src, dst)


def merge_reshapes(op: Op, uses: Uses) -> bool:
    """RESHAPE of a reshaped tensor read by nothing else: the inner reshapes are no-ops, skip them."""
    changed = False
    while op.type == "RESHAPE" and op.inputs[0] is not None:  # each step skips one inner reshape
        inner = uses.producer.get(id(op.inputs[0]))
        if (inner is None or inner.type not in SHAPE_ONLY or not uses.only_reader(op.inputs[0], op)
                or not same_quant(inner.inputs[0], op.outputs[0])):
            return changed
        uses.set_input(op, 0, inner.inputs[0])
        uses.remove(inner)
        merge_sources(op.sources, inner.sources)
        changed = True
    return changed


def same_tensor_type(a: Tensor, b: Tensor) -> bool:
    return a.static and a.shape == b.shape and a.dtype == b.dtype and same_quant(a, b)


def const_input(op: Op, i: int) -> np.ndarray | None:
    t = op.inputs[i] if i < len(op.inputs) else None
    return None if t is None else t.data


def no_activation(op: Op) -> bool:
    return op.options.get("fused_activation_function", "NONE") == "NONE"


def is_identity_perm(op: Op) -> bool:
    perm = const_input(op, 1)
    return perm is not None and np.array_equal(perm, np.arange(perm.size))


def all_equal(op: Op, i: int, value) -> bool:
    v = const_input(op, i)
    return v is not None and v.size > 0 and bool(np.all(v == value))


def whole_strided_slice(op: Op) -> bool:
    o = op.options
    return (not (o["ellipsis_mask"] or o["new_axis_mask"] or o["shrink_axis_mask"])
            and all_equal(op, 3, 1) and starts_at_zero(const_input(op, 1), o["begin_mask"]))


def starts_at_zero(begin, begin_mask: int) -> bool:
    return begin is not None and all(b == 0 or begin_mask >> i & 1 for i, b in enumerate(begin.tolist()))


def identity_arithmetic(neutral):
    """x op c where the constant c is the operation's neutral element and does not broadcast x up."""
    def test(op: Op) -> bool:
        other = op.inputs[1]
        return (no_activation(op) and other is not None and other.is_constant
                and op.outputs[0].dtype.startswith("float") and op.inputs[0].quant is None
                and bool(np.all(other.data == neutral)))
    return test


# op type -> test that an op of that type, whose output has its input's exact shape and type, is a no-op.
NOOPS = {
    "RESHAPE": lambda op: True,
    "SQUEEZE": lambda op: True,
    "EXPAND_DIMS": lambda op: True,
    "CAST": lambda op: True,
    "TRANSPOSE": is_identity_perm,
    "BROADCAST_TO": lambda op: True,
    "TILE": lambda op: True,
    "CONCATENATION": lambda op: len(op.inputs) == 1 and no_activation(op),
    "PAD": lambda op: all_equal(op, 1, 0),
    "PADV2": lambda op: all_equal(op, 1, 0),
    "MIRROR_PAD": lambda op: all_equal(op, 1, 0),
    "SLICE": lambda op: all_equal(op, 1, 0),
    "STRIDED_SLICE": whole_strided_slice,
    "ADD": identity_arithmetic(0),
    "SUB": identity_arithmetic(0),
    "MUL": identity_arithmetic(1),
    "DIV": identity_arithmetic(1),
}
