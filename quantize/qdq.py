"""The ranges a QDQ source model fixed, for full-integer quantization to take before calibrated ones.

The ONNX importer records each QuantizeLinear -> DequantizeLinear pair's range on the float tensor it
quantizes (Tensor.qdq_range, convert/onnx/lower_quant.py). The ranges are completed here across the ops that
keep their input's parameters (spec SAME) or share one set (spec SHARED), so that the tensors the conversion
adds around them (transposes, pads, the inner tensors of a lowered op) need no calibration:
- an output without a range takes its SAME op's input range, or the union of its SHARED op's input ranges;
- an input without a range that only this op reads takes the op's output range: the values it loses to
  saturation are ones a max pool, a slice, a minimum or a concatenation would not pass on either (an average
  or a resize nearly so).
The parameters derived from a recorded range are the source's own (quantize/params.py: activation_params).
"""
from __future__ import annotations

from edgepress.convert.ir import Graph, Model

from .plan import is_float
from .spec import RULES, SAME, SHARED


def source_ranges(model: Model) -> dict:
    """tensor name -> (lo, hi) for every float activation the source's QDQ pairs decide."""
    graph = model.graph
    ranges = {t.name: tuple(t.qdq_range) for t in graph.tensors()
              if t.qdq_range is not None and is_float(t) and not t.is_constant}
    if ranges:
        complete(graph, ranges)
    return ranges


def complete(graph: Graph, ranges: dict) -> None:
    """Add ranges across SAME and SHARED ops (the two rules of the module doc) until none is added."""
    consumers = graph.consumers()
    outputs = {id(t) for t in graph.outputs}
    changed = True
    while changed:
        changed = False
        for op in graph.ops:
            rule = RULES.get(op.type)
            ins = [t for t in op.inputs if is_float(t) and not t.is_constant]
            outs = [t for t in op.outputs if is_float(t)]
            if rule is None or rule.output not in (SAME, SHARED) or not ins or not outs:
                continue
            inherited = output_range(rule, ins, ranges)
            for t in outs:
                if t.name not in ranges and inherited is not None:
                    ranges[t.name] = inherited
                    changed = True
            for t in ins:
                if (t.name not in ranges and outs[0].name in ranges and id(t) not in outputs
                        and [id(c) for c in consumers.get(id(t), [])] == [id(op)]):
                    ranges[t.name] = ranges[outs[0].name]
                    changed = True


def output_range(rule, ins: list, ranges: dict) -> tuple | None:
    """A SAME op's first input range; the union of a SHARED op's input ranges once all are known."""
    if rule.output == SAME:
        return ranges.get(ins[0].name)
    if all(t.name in ranges for t in ins):
        return min(ranges[t.name][0] for t in ins), max(ranges[t.name][1] for t in ins)
    return None
