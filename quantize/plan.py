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


def plan(graph: Graph, ranges: dict, activation: str, keep, stays_float: dict,
         widen=lambda op: False) -> tuple[dict, dict, list]:
    """id(op) -> Rule for the ops that become integer, id(op) -> their activation type, and KeptFloat for
    the float ops that stay float. stays_float: op type -> why the target runs it best in float
    (targets.py), unless a QDQ source quantized the op. widen(op): in an int8 model, this op writes int16
    activations and its readers read them as int16 (int16x8 kernels where TFLite has them): what int16
    buys is the finer grid of the tensor between the two."""
    rules, precision, kept = {}, {}, []
    producers = graph.producers()
    widened = {id(op) for op in graph.ops if activation == "int8" and widen(op)}
    for op in graph.ops:
        floats = [t for t in (*op.inputs, *op.outputs) if t is not None and t.dtype.startswith("float")]
        if not floats:
            continue  # integer-only (shape arithmetic): nothing to quantize
        writers = [producers[id(t)] for t in activation_inputs(op) if id(t) in producers]
        wide = rule_for(op.type, "int16") is not None and (id(op) in widened or any(id(w) in widened for w in writers))
        rule = rule_for(op.type, "int16" if wide else activation)
        reason = why_float(op, rule, ranges, activation, keep)
        if reason is None and op.type in stays_float and not from_source(op) and not wide:
            kept.append(KeptFloat(op.label, op.type, stays_float[op.type], chosen=True))
        elif reason:
            kept.append(KeptFloat(op.label, op.type, reason, chosen=reason == ASKED))
        else:
            rules[id(op)], precision[id(op)] = rule, "int16" if wide else activation
    return rules, precision, kept


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


def io_activation(io_type: str) -> str:
    """The activation type whose parameters an integer graph input or output takes (uint8 shifts int8's)."""
    return "int16" if io_type == "int16" else "int8"


def assign_params(graph: Graph, rules: dict, precision: dict, ranges: dict, io_type: str) -> dict:
    """(id(tensor), activation type) -> QuantParams for every float activation an integer op reads or
    writes, in the type of that op (a tensor between an int8 and an int16 op has both), and for the graph's
    inputs and outputs when they become integer."""
    params: dict[tuple, QuantParams] = {}

    def from_range(t: Tensor, dtype: str) -> QuantParams:
        if (id(t), dtype) not in params:
            params[id(t), dtype] = P.activation_params(*ranges[t.name], dtype)
        return params[id(t), dtype]

    if io_type != "float32":
        for t in (*graph.inputs, *graph.outputs):
            if is_float(t) and t.name in ranges:
                from_range(t, io_activation(io_type))
    producers, consumers = graph.producers(), graph.consumers()
    outputs = {id(t) for t in graph.outputs}
    for op in graph.ops:
        rule = rules.get(id(op))
        if rule is None:
            continue
        dtype = precision[id(op)]
        ins = activation_inputs(op)
        for t in ins:
            from_range(t, dtype)
        outs = [t for t in op.outputs if is_float(t)]
        if not outs:
            continue
        if rule.output == FIXED:
            scale, zero = FIXED_OUTPUT[(op.type, dtype)]
            q = QuantParams(scale, zero)
        elif rule.output == SAME and ins:
            q = params[id(ins[0]), dtype]
        elif rule.output == SHARED:
            q = shared_params(op, ins + outs, ranges, dtype)
            for t in ins:
                if can_retarget(t, op, producers, consumers, rules, outputs) \
                        and precision[id(producers[id(t)])] == dtype:
                    params[id(t), dtype] = q
        else:
            q = from_range(outs[0], dtype)
        for t in outs:
            params[id(t), dtype] = replace(q)
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
