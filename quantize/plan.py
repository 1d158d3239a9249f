"""Which ops of a float graph become integer ops, and the quantization parameters of every activation they
read and write: calibrated ranges, the spec's fixed outputs, and parameters shared where kernels require."""
from __future__ import annotations

from dataclasses import dataclass, replace

from edgepress.convert.ir import Graph, Op, QuantParams, Tensor

from . import params as P
from .spec import FIXED, FIXED_OUTPUT, FREE, SAME, SHARED, Rule, rule_for

ASKED = "kept float as asked"


@dataclass
class KeptFloat:
    op: str  # the op's label: its source node names
    op_type: str
    reason: str
    chosen: bool = False  # by request or by design (not worth quantizing), rather than for lack of a kernel


def is_float(t: Tensor | None) -> bool:
    return t is not None and t.dtype == "float32"


def activation_inputs(op: Op) -> list[Tensor]:
    """Run-time float inputs the integer kernel reads (not weights or biases, which are constants)."""
    return [t for t in op.inputs if is_float(t) and not t.is_constant]


def plan(graph: Graph, ranges: dict, activation: str, keep, stays_float: dict) -> tuple[dict, list]:
    """id(op) -> Rule for the ops that become integer; KeptFloat for the float ops that stay float.
    stays_float: op type -> why the target runs it best in float (targets.py), unless a QDQ source
    quantized the op."""
    rules, kept = {}, []
    for op in graph.ops:
        floats = [t for t in (*op.inputs, *op.outputs) if t is not None and t.dtype.startswith("float")]
        if not floats:
            continue  # integer-only (shape arithmetic): nothing to quantize
        rule = rule_for(op.type, activation)
        reason = why_float(op, rule, ranges, activation, keep)
        if reason is None and op.type in stays_float and not from_source(op):
            kept.append(KeptFloat(op.label, op.type, stays_float[op.type], chosen=True))
        elif reason:
            kept.append(KeptFloat(op.label, op.type, reason, chosen=reason == ASKED))
        else:
            rules[id(op)] = rule
    return rules, kept


def from_source(op: Op) -> bool:
    """A QDQ source quantized this op's output: its scales, not the target's preferences, decide."""
    return any(t.qdq_range is not None for t in op.outputs)


def why_float(op: Op, rule: Rule | None, ranges: dict, activation: str, keep) -> str | None:
    if keep(op):
        return ASKED
    if rule is None:
        return f"no {'int16x8' if activation == 'int16' else 'int8'} kernel for {op.type}"
    other = [t for t in (*op.inputs, *op.outputs) if t is not None and t.dtype in ("float16", "float64")]
    if other:
        return f"tensor '{other[0].name}' is {other[0].dtype}"
    for i in rule.weights:
        w = op.inputs[i] if i < len(op.inputs) else None
        if is_float(w) and not w.is_constant and rule.weights[i] is not None:
            return f"its weights '{w.name}' are computed at run time"
    if rule.bias and is_float(bias := op.inputs[rule.bias[0]] if rule.bias[0] < len(op.inputs) else None) \
            and not bias.is_constant:
        return f"its bias '{bias.name}' is computed at run time"
    missing = [t.name for t in (*op.inputs, *op.outputs) if is_float(t) and not t.is_constant and t.name not in ranges]
    if missing:
        return f"no calibration statistics for '{missing[0]}'"
    return None


def assign_params(graph: Graph, rules: dict, ranges: dict, activation: str, io_type: str) -> dict:
    """id(tensor) -> QuantParams for every float activation an integer op reads or writes, and for the
    graph's inputs and outputs when they become integer."""
    params: dict[int, QuantParams] = {}

    def from_range(t: Tensor) -> QuantParams:
        if id(t) not in params:
            params[id(t)] = P.activation_params(*ranges[t.name], activation)
        return params[id(t)]

    if io_type != "float32":
        for t in (*graph.inputs, *graph.outputs):
            if is_float(t) and t.name in ranges:
                from_range(t)
    producers, consumers = graph.producers(), graph.consumers()
    outputs = {id(t) for t in graph.outputs}
    for op in graph.ops:
        rule = rules.get(id(op))
        if rule is None:
            continue
        ins = activation_inputs(op)
        for t in ins:
            from_range(t)
        outs = [t for t in op.outputs if is_float(t)]
        if not outs:
            continue
        if rule.output == FIXED:
            scale, zero = FIXED_OUTPUT[(op.type, activation)]
            q = QuantParams(scale, zero)
        elif rule.output == SAME and ins:
            q = params[id(ins[0])]
        elif rule.output == SHARED:
            q = shared_params(op, ins + outs, ranges, activation)
            for t in ins:
                if can_retarget(t, op, producers, consumers, rules, outputs):
                    params[id(t)] = q
        else:
            q = from_range(outs[0])
        for t in outs:
            params[id(t)] = replace(q)
    return params


def shared_params(op: Op, tensors: list, ranges: dict, activation: str) -> QuantParams:
    """One set of parameters covering every float input (constants included) and the output.

    A MINIMUM (MAXIMUM) with a constant bound never outputs more (less) than the bound, so the range stops
    there: the grid then ends on the bound, the producer's saturation does the clamp and the op becomes an
    identity the rewrite drops (integer.py: Rewriter.clamp_is_identity)."""
    lo, hi = 0.0, 0.0
    for t in tensors:
        a, b = ranges[t.name]
        lo, hi = min(lo, a), max(hi, b)
    bounds = [t.data for t in op.inputs if is_float(t) and t.is_constant and t.data.size]
    for c in bounds:
        lo, hi = min(lo, float(c.min())), max(hi, float(c.max()))
    if bounds and op.type == "MINIMUM":
        hi = min(hi, max(float(c.max()) for c in bounds))
    if bounds and op.type == "MAXIMUM":
        lo = max(lo, min(float(c.min()) for c in bounds))
    return P.activation_params(lo, hi, activation)


def can_retarget(t: Tensor, op: Op, producers: dict, consumers: dict, rules: dict, outputs: set) -> bool:
    """An input may take the shared parameters itself (no requantization) when its producer chooses its
    output parameters freely and `op` is its only reader."""
    producer = producers.get(id(t))
    rule = rules.get(id(producer)) if producer is not None else None
    return (rule is not None and rule.output == FREE and id(t) not in outputs
            and [id(c) for c in consumers.get(id(t), [])] == [id(op)])
