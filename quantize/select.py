"""--keep-float: which ops a list of names selects. A name is an op type (CONV_2D, SOFTMAX...), an original
source node name (as the report prints them), or an output tensor name."""
from __future__ import annotations

from edgepress.convert.ir import Model, Op
from edgepress.errors import UsageError


def matches(op: Op, name: str) -> bool:
    return op.type == name or name in op.sources or any(t.name == name for t in op.outputs)


def keep_float_matcher(model: Model, names) -> callable:
    """A predicate op -> bool; a UsageError for any name that selects no op, so typos do not pass silently."""
    names = tuple(names)
    ops = list(model.ops())
    unknown = [n for n in names if not any(matches(op, n) for op in ops)]
    if unknown:
        types = sorted({op.type for op in ops})
        raise UsageError(f"--keep-float {', '.join(unknown)}: no op has this type, source node or output name "
                         f"(op types here: {', '.join(types)})")
    return lambda op: any(matches(op, n) for n in names)
