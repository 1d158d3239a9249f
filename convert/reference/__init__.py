"""The NumPy reference evaluator: the executable spec of every IR op.

Each family module holds plain functions `fn(op, *inputs) -> array | tuple[array, ...]` and exports them
in a dict `OPS` keyed by TFLite builtin name; inputs arrive as NumPy arrays (None for omitted optional
inputs) and `op.options` holds the builtin options with schema defaults filled in. Simple over fast.
"""
from .evaluate import evaluate, evaluate_op
from .registry import REFERENCE

__all__ = ["evaluate", "evaluate_op", "REFERENCE"]
