"""The supported-ops tables of README.md, generated from the code (`python -m edgepress.convert.optable`).

tests/test_readme.py fails when README.md's tables differ from what this prints, so they cannot drift.
"""
from __future__ import annotations

BEGIN, END = "<!-- ops-table:begin -->", "<!-- ops-table:end -->"


def onnx_table() -> list[str]:
    from .onnx.lowerings import LOWERINGS
    by_family: dict[str, list[str]] = {}
    for op_type, fn in LOWERINGS.items():
        family = fn.__module__.rsplit(".", 1)[-1].removeprefix("lower_")
        by_family.setdefault(family, []).append(op_type)
    rows = ["| ONNX family | ops |", "|---|---|"]
    rows += [f"| {family} | {', '.join(sorted(ops))} |" for family, ops in sorted(by_family.items())]
    return rows


def tflite_table() -> list[str]:
    from .reference import REFERENCE
    from .reference.registry import FAMILIES
    rows = ["| TFLite family (reference evaluator) | builtin ops |", "|---|---|"]
    for family in FAMILIES:
        rows.append(f"| {family.__name__.rsplit('.', 1)[-1]} | {', '.join(sorted(family.OPS))} |")
    assert sum(len(f.OPS) for f in FAMILIES) >= len(REFERENCE)
    return rows


def markdown() -> str:
    from .onnx.lowerings import LOWERINGS
    from .reference import REFERENCE
    return "\n".join([BEGIN, f"ONNX ops imported ({len(LOWERINGS)}), opsets 11-21 (older models are upgraded):",
                      "", *onnx_table(), "",
                      f"TFLite builtin ops the IR, reader, writer and reference evaluator handle ({len(REFERENCE)}):",
                      "", *tflite_table(), END])


if __name__ == "__main__":
    print(markdown())
