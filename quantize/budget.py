"""Accuracy budget: keep the most sensitive weighted layers float (or, in an int8 model, in int16x8) until
the quantized model's metric on held-out samples is within `max_drop` of the float model's, or say that it
cannot be reached.

Sensitivity is measured, not guessed: for each weighted op (CONV_2D, DEPTHWISE_CONV_2D, TRANSPOSE_CONV,
FULLY_CONNECTED, BATCH_MATMUL), the drop of the model quantized with only that op kept float. The ops are
then kept float in order of how much that helps, the smallest prefix that meets the budget found by
doubling and bisection (each probe is one quantization and one evaluation).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from edgepress.errors import UsageError

from .report import quant_feeds, real_value

WEIGHTED = ("CONV_2D", "DEPTHWISE_CONV_2D", "TRANSPOSE_CONV", "FULLY_CONNECTED", "BATCH_MATMUL")


def cosine_drop(expected: list, got: list) -> float:
    """1 - the mean cosine similarity over outputs and samples."""
    cos = []
    for a, b in zip(expected, got):
        a, b = np.ravel(a).astype(np.float64), np.ravel(b).astype(np.float64)
        denom = np.linalg.norm(a) * np.linalg.norm(b)
        cos.append(a @ b / denom if denom > 0 else float(np.array_equal(a, b)))
    return 1.0 - float(np.mean(cos))


def top1_drop(expected: list, got: list) -> float:
    """The fraction of rows (last axis) whose argmax changes."""
    changed = [np.mean(np.argmax(a, axis=-1) != np.argmax(b, axis=-1)) for a, b in zip(expected, got)]
    return float(np.mean(changed))


def mse_drop(expected: list, got: list) -> float:
    """Mean squared error, relative to the mean square of the float outputs."""
    err = sum(float(np.sum((np.asarray(a, np.float64) - b) ** 2)) for a, b in zip(expected, got))
    power = sum(float(np.sum(np.asarray(a, np.float64) ** 2)) for a in expected)
    return err / power if power > 0 else err


METRICS = {"cosine": cosine_drop, "top1": top1_drop, "mse": mse_drop}


@dataclass
class Budget:
    metric: str
    max_drop: float
    drop: float = 0.0  # of the returned model
    full_drop: float = 0.0  # with every layer quantized
    reached: bool = False
    kept: list = field(default_factory=list)  # op labels kept float (or int16) for the budget
    probes: int = 0
    fallback: str = "float"  # what the kept layers run in


def metric_fn(metric):
    if callable(metric):
        return metric
    if metric not in METRICS:
        raise UsageError(f"--metric {metric}: expected one of {', '.join(METRICS)} (or, in Python, a function)")
    return METRICS[metric]


def outputs_of(model, feeds_list: list) -> list:
    """Every graph output's real value, sample after sample, in one flat list."""
    g = model.graph
    values = []
    for feeds in feeds_list:
        out = model.run(quant_feeds(g, feeds))
        values += [real_value(t, out[t.name]) for t in g.outputs]
    return values


def fit(float_model, quantize_keeping, held_out: list, drop_of, max_drop: float) -> tuple:
    """quantize_keeping(names) -> a tuple whose first item is the model quantized with the ops writing those
    tensors kept float; drop_of(float outputs, quantized outputs) -> drop. Returns quantize_keeping's result
    for the fewest float layers that meet the budget (or the best one found) and a Budget."""
    if not held_out:
        raise UsageError("the accuracy budget needs held-out samples; the calibration data ran out first")
    expected = outputs_of(float_model, held_out)
    budget = Budget(getattr(drop_of, "__name__", "custom").removesuffix("_drop"), max_drop)

    def probe(names):
        budget.probes += 1
        result = quantize_keeping(names)
        return result, drop_of(expected, outputs_of(result[0], held_out))

    model, budget.full_drop = probe([])
    budget.drop = budget.full_drop
    if budget.full_drop <= max_drop:
        budget.reached = True
        return model, budget
    ranked = rank(float_model, probe, budget.full_drop)
    best = (model, budget.full_drop, [])
    lo, hi = 0, 1
    while True:  # doubling: find a prefix that meets the budget
        names = ranked[:hi]
        candidate, drop = probe(names)
        if drop < best[1]:
            best = (candidate, drop, names)
        if drop <= max_drop or hi >= len(ranked):
            break
        lo, hi = hi, min(2 * hi, len(ranked))
    if drop <= max_drop:
        best = (candidate, drop, names)
        while hi - lo > 1:  # bisection for the shortest prefix
            mid = (lo + hi) // 2
            candidate, drop = probe(ranked[:mid])
            if drop <= max_drop:
                hi, best = mid, (candidate, drop, ranked[:mid])
            else:
                lo = mid
    result, budget.drop, names = best
    budget.kept = [op.label for op in float_model.graph.ops if op.outputs[0].name in set(names)]
    budget.reached = budget.drop <= max_drop
    return result, budget


def rank(float_model, probe, full_drop: float) -> list:
    """Weighted ops' output names, most helpful to keep float first (ops that do not help are dropped)."""
    gains = []
    for op in float_model.graph.ops:
        if op.type in WEIGHTED and op.outputs[0].dtype == "float32":
            _, drop = probe([op.outputs[0].name])
            gains.append((full_drop - drop, op.outputs[0].name))
    gains.sort(key=lambda g: -g[0])
    return [name for gain, name in gains if gain > 0]
