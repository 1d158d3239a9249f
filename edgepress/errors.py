"""Errors are values with context, raised once at the boundary the user sees.

The CLI prints `str(error)` for any EdgepressError as one line (plus an indented list where there are
several problems, e.g. every unsupported op) and exits non-zero; anything else is a bug and keeps its
traceback.
"""


class EdgepressError(Exception):
    """Base of every error a user can act on."""


class ModelFormatError(EdgepressError):
    """A model file is missing, truncated, corrupt or not what its extension says."""

    def __init__(self, path, problem):
        super().__init__(f"{path}: {problem}")
        self.path = path
        self.problem = problem


class UnsupportedOpsError(EdgepressError):
    """The model uses ops we cannot convert; lists every op type with the nodes that use it."""

    def __init__(self, unsupported: dict, source: str = "model"):
        self.unsupported = {k: sorted(v) for k, v in sorted(unsupported.items())}
        lines = [f"{source}: {len(self.unsupported)} unsupported op type(s):"]
        for op_type, nodes in self.unsupported.items():
            shown = ", ".join(nodes[:10]) + (f", ... ({len(nodes)} nodes)" if len(nodes) > 10 else "")
            lines.append(f"  {op_type}: {shown}")
        super().__init__("\n".join(lines))


class ConversionError(EdgepressError):
    """An op is supported in general but not with these attributes, shapes or types."""

    def __init__(self, op_type: str, node: str, problem: str):
        super().__init__(f"{op_type} node '{node}': {problem}")
        self.op_type = op_type
        self.node = node
        self.problem = problem


class UsageError(EdgepressError):
    """A bad option value, e.g. a malformed --input-shape."""
