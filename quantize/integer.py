"""Full-integer quantization: int8 (or int16 activations with int8 weights) by the TFLite specification.

IR -> IR. Every op with an integer kernel (spec.RULES) runs on integers: its float activations become int8
(int16) tensors in place, keeping their names, with parameters from the calibrated ranges; weights become
per-channel int8 constants and biases int32 (int64) constants. Every other op stays float: DEQUANTIZE before
it and QUANTIZE after it, and it is listed with the reason. The graph's inputs and outputs are float32 with
QUANTIZE/DEQUANTIZE at the boundary, or the integer type itself (io_type).
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field, replace

import numpy as np

from edgepress.convert.ir import Graph, Model, Op, QuantParams, Tensor
from edgepress.convert.passes.edit import Names, same_quant
from edgepress.errors import UsageError

from . import params as P
from .bias_correction import corrected_bias
from .prepare import expand_weights
from .spec import FIXED, FIXED_OUTPUT, FREE, SAME, SHARED, Rule, rule_for

ACTIVATIONS = ("int8", "int16")
IO_TYPES = {"int8": ("float32", "int8", "uint8"), "int16": ("float32", "int16")}
BIAS_TYPE = {"int8": "int32", "int16": "int64"}
ASKED = "kept float as asked"


@dataclass
class KeptFloat:
    op: str  # the op's label: its source node names
    op_type: str
    reason: str
    chosen: bool = False  # by request or by design (not worth quantizing), rather than for lack of a kernel


@dataclass
class Outcome:
    model: Model
    kept_float: list = field(default_factory=list)  # KeptFloat, in graph order
    tensor_map: dict = field(default_factory=dict)  # float tensor name -> tensor holding its value now


def quantize_integer(model: Model, ranges: dict, activation: str = "int8", io_type: str = "float32",
                     keep=lambda op: False, means: dict | None = None) -> Outcome:
    """ranges: tensor name -> (min, max) from a calibrator; keep(op) -> True keeps that op float; means:
    tensor name -> per-channel mean of weighted ops' inputs, for bias correction (None: no correction)."""
    if activation not in ACTIVATIONS:
        raise UsageError(f"activation type '{activation}': expected one of {', '.join(ACTIVATIONS)}")
    if io_type not in IO_TYPES[activation]:
        raise UsageError(f"--io-type {io_type} is not available with {activation} activations "
                         f"(expected one of {', '.join(IO_TYPES[activation])})")
    model = copy.deepcopy(model)
    graph = model.graph
    expand_weights(graph)
    rules, kept = plan(graph, ranges, activation, keep)
    params = assign_params(graph, rules, ranges, activation, io_type)
    rewriter = Rewriter(graph, rules, params, activation, io_type, means or {})
    rewriter.run()
    return Outcome(model, kept, rewriter.tensor_map())


def is_float(t: Tensor | None) -> bool:
    return t is not None and t.dtype == "float32"


def activation_inputs(op: Op, rule: Rule) -> list[Tensor]:
    """Run-time float inputs the integer kernel reads (not weights or biases, which are constants)."""
    return [t for i, t in enumerate(op.inputs) if is_float(t) and not t.is_constant]


def plan(graph: Graph, ranges: dict, activation: str, keep) -> tuple[dict, list]:
    """id(op) -> Rule for the ops that become integer; KeptFloat for the float ops that stay float."""
    rules, kept = {}, []
    for op in graph.ops:
        floats = [t for t in (*op.inputs, *op.outputs) if t is not None and t.dtype.startswith("float")]
        if not floats:
            continue  # integer-only (shape arithmetic): nothing to quantize
        rule = rule_for(op.type, activation)
        reason = why_float(op, rule, ranges, activation, keep)
        if reason:
            kept.append(KeptFloat(op.label, op.type, reason, chosen=reason == ASKED))
        else:
            rules[id(op)] = rule
    return rules, kept


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
        ins = activation_inputs(op, rule)
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
    """One set of parameters covering every float input (constants included) and the output."""
    lo, hi = 0.0, 0.0
    for t in tensors:
        a, b = ranges[t.name]
        lo, hi = min(lo, a), max(hi, b)
    for t in op.inputs:
        if is_float(t) and t.is_constant and t.data.size:
            lo, hi = min(lo, float(t.data.min())), max(hi, float(t.data.max()))
    return P.activation_params(lo, hi, activation)


def can_retarget(t: Tensor, op: Op, producers: dict, consumers: dict, rules: dict, outputs: set) -> bool:
    """An input may take the shared parameters itself (no requantization) when its producer chooses its
    output parameters freely and `op` is its only reader."""
    producer = producers.get(id(t))
    rule = rules.get(id(producer)) if producer is not None else None
    return (rule is not None and rule.output == FREE and id(t) not in outputs
            and [id(c) for c in consumers.get(id(t), [])] == [id(op)])


class Rewriter:
    """Rebuilds the op list: integer ops on integer tensors, QUANTIZE/DEQUANTIZE where domains meet."""

    def __init__(self, graph: Graph, rules: dict, params: dict, activation: str, io_type: str, means: dict):
        self.graph, self.rules, self.params = graph, rules, params
        self.activation, self.io_type, self.means = activation, io_type, means
        self.names = Names(graph)
        self.int_of: dict[int, Tensor] = {}  # id(original float tensor) -> its integer version
        self.float_of: dict[int, Tensor] = {}  # id(original float tensor) -> its float version
        self.originals: list[Tensor] = []
        self.cache: dict = {}
        self.ops: list[Op] = []
        self.outputs = {id(t) for t in graph.outputs}

    def run(self) -> None:
        for t in self.graph.inputs:
            if is_float(t):
                self.boundary_input(t)
        for op in self.graph.ops:
            if id(op) in self.rules:
                self.integer_op(op, self.rules[id(op)])
            else:
                self.float_op(op)
        self.graph.ops = self.ops

    def tensor_map(self) -> dict:
        return {t.name: (self.int_of.get(id(t)) or self.float_of[id(t)]).name for t in self.originals}

    # -- versions of a tensor -------------------------------------------------------------------------
    def track(self, t: Tensor, int_version: Tensor | None, float_version: Tensor | None) -> None:
        self.originals.append(t)
        if int_version is not None:
            self.int_of[id(t)] = int_version
        if float_version is not None:
            self.float_of[id(t)] = float_version

    def as_int(self, t: Tensor, q: QuantParams) -> Tensor:
        """`t`'s value as an activation-typed integer tensor with parameters q (QUANTIZE once per q)."""
        current = self.int_of.get(id(t))
        if current is not None and current.dtype == self.activation and same_quant_params(current.quant, q):
            return current
        key = (id(t), float(q.scale[0]), int(q.zero_point[0]))
        if key not in self.cache:
            src = current if current is not None else self.float_of[id(t)]
            new = Tensor(self.names(f"{t.name}/{'requantized' if current is not None else 'quantized'}"),
                         t.shape, self.activation, quant=replace(q), sources=list(t.sources))
            self.emit("QUANTIZE", src, new)
            self.cache[key] = new
            self.int_of.setdefault(id(t), new)
        return self.cache[key]

    def as_float(self, t: Tensor) -> Tensor:
        if id(t) not in self.float_of:
            new = Tensor(self.names(f"{t.name}/dequantized"), t.shape, "float32", sources=list(t.sources))
            self.emit("DEQUANTIZE", self.int_of[id(t)], new)
            self.float_of[id(t)] = new
        return self.float_of[id(t)]

    def emit(self, op_type: str, src: Tensor, dst: Tensor) -> None:
        self.ops.append(Op(op_type, [src], [dst], sources=list(dst.sources)))

    def make_int(self, t: Tensor, dtype: str, q: QuantParams) -> None:
        t.dtype, t.quant = dtype, replace(q)

    # -- graph boundary -------------------------------------------------------------------------------
    def boundary_input(self, t: Tensor) -> None:
        if self.io_type == "float32" or id(t) not in self.params:
            self.track(t, None, t)
            return
        q = self.params[id(t)]
        if self.io_type == "uint8":
            q = shift_to_uint8(q)
        self.make_int(t, self.io_type, q)
        self.track(t, t, None)

    # -- ops ------------------------------------------------------------------------------------------
    def integer_op(self, op: Op, rule: Rule) -> None:
        floats = list(op.inputs)  # before quantization: what bias correction compares against
        shared = None
        if rule.output in (SAME, SHARED):
            ins = activation_inputs(op, rule)
            outs = [t for t in op.outputs if is_float(t)]
            shared = self.params[id(outs[0])] if outs else self.params[id(ins[0])] if ins else None
        for i, t in enumerate(op.inputs):
            if not is_float(t) and not (t is not None and id(t) in self.int_of):
                continue
            if i in rule.weights and t.is_constant:
                op.inputs[i] = self.weight(t, rule.weights[i])
            elif rule.bias and i == rule.bias[0] and t.is_constant:
                continue  # needs the quantized input and weights; done below
            elif t.is_constant:
                q = shared or self.constant_params(t)
                op.inputs[i] = self.constant(t, q, self.activation)
            else:
                q = self.params[id(t)] if rule.output != SHARED else shared
                op.inputs[i] = self.as_int(t, q)
        if rule.bias and rule.bias[0] < len(op.inputs) and is_float(op.inputs[rule.bias[0]]):
            b, x, w = (op.inputs[i] for i in rule.bias)
            mean = self.means.get(floats[rule.bias[1]].name)
            value = corrected_bias(op, b.data, floats[rule.bias[2]].data, P.dequantize_array(w.data, w.quant), mean)
            op.inputs[rule.bias[0]] = self.bias(b, value, x.quant, w.quant)
        if self.activation == "int16":
            op.options.update(rule.int16_options)
        self.ops.append(op)
        for j, t in enumerate(op.outputs):
            if is_float(t):
                self.integer_output(op, j, t)

    def integer_output(self, op: Op, j: int, t: Tensor) -> None:
        q = self.params[id(t)]
        if id(t) not in self.outputs or self.io_type == self.activation:
            self.make_int(t, self.activation, q)
            self.track(t, t, None)
            return
        inner = Tensor(self.names(f"{t.name}/{self.activation}"), t.shape, self.activation, quant=replace(q),
                       sources=list(t.sources))
        op.outputs[j] = inner
        if self.io_type == "float32":
            self.emit("DEQUANTIZE", inner, t)
            self.track(t, inner, t)
        else:
            self.make_int(t, self.io_type, shift_to_uint8(q))
            self.emit("QUANTIZE", inner, t)
            self.track(t, inner, None)

    def float_op(self, op: Op) -> None:
        for i, t in enumerate(op.inputs):
            if t is not None and (id(t) in self.int_of or id(t) in self.float_of):
                op.inputs[i] = self.as_float(t)
        self.ops.append(op)
        for j, t in enumerate(op.outputs):
            if not is_float(t):
                continue
            if id(t) in self.outputs and self.io_type != "float32" and id(t) in self.params:
                inner = Tensor(self.names(f"{t.name}/float"), t.shape, "float32", sources=list(t.sources))
                op.outputs[j] = inner
                q = self.params[id(t)]
                self.make_int(t, self.io_type, shift_to_uint8(q) if self.io_type == "uint8" else q)
                self.emit("QUANTIZE", inner, t)
                self.track(t, t, inner)
            else:
                self.track(t, None, t)

    # -- constants ------------------------------------------------------------------------------------
    def weight(self, t: Tensor, axis: int | None) -> Tensor:
        key = (id(t), "weight", axis)
        if key not in self.cache:
            q = P.weight_params(t.data, axis)
            self.cache[key] = self.const_tensor(t, P.quantize_array(t.data, q, "int8", narrow=True), q)
        return self.cache[key]

    def constant_params(self, t: Tensor) -> QuantParams:
        return P.activation_params(float(t.data.min()), float(t.data.max()), self.activation) if t.data.size \
            else P.activation_params(0.0, 0.0, self.activation)

    def constant(self, t: Tensor, q: QuantParams, dtype: str) -> Tensor:
        key = (id(t), float(q.scale[0]), int(q.zero_point[0]))
        if key not in self.cache:
            self.cache[key] = self.const_tensor(t, P.quantize_array(t.data, q, dtype), q)
        return self.cache[key]

    def bias(self, b: Tensor, value: np.ndarray, input_q: QuantParams, weight_q: QuantParams) -> Tensor:
        q = P.bias_params(input_q, weight_q)
        key = (id(b), "bias", q.scale.tobytes(), np.asarray(value).tobytes())
        if key not in self.cache:
            data = P.quantize_bias(np.broadcast_to(value, q.scale.shape), q, BIAS_TYPE[self.activation])
            self.cache[key] = self.const_tensor(b, data, q)
        return self.cache[key]

    def const_tensor(self, t: Tensor, data: np.ndarray, q: QuantParams) -> Tensor:
        new = Tensor.constant(self.names(f"{t.name}/{data.dtype}"), data, sources=list(t.sources))
        new.quant = q
        return new


def same_quant_params(a: QuantParams | None, b: QuantParams) -> bool:
    return (a is not None and np.array_equal(a.scale, b.scale) and np.array_equal(a.zero_point, b.zero_point))


def shift_to_uint8(q: QuantParams) -> QuantParams:
    """The uint8 twin of int8 parameters: same scale, zero point + 128 (the same real values)."""
    return QuantParams(q.scale, q.zero_point + 128, min=q.min, max=q.max)
