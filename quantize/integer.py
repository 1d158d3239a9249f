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
from edgepress.convert.passes.edit import Names
from edgepress.errors import UsageError

from . import params as P
from .bias_correction import corrected_bias
from .plan import activation_inputs, assign_params, io_activation, is_float, plan
from .prepare import expand_weights
from .spec import SAME, SHARED, Rule

ACTIVATIONS = ("int8", "int16")
IO_TYPES = {"int8": ("float32", "int8", "uint8"), "int16": ("float32", "int16")}
BIAS_TYPE = {"int8": "int32", "int16": "int64"}
# A constant addend quantized finer than 1/512 of the output's step changes nothing the output's rounding
# keeps, and XNNPACK runs int8 ADD/SUB only for input/output scale ratios in [2^-10, 2^8): a tiny constant
# (PP-OCRv4 det's learnable affine biases) at its own scale sent those ADDs to slow builtin kernels.
ADDENDS = frozenset({"ADD", "SUB"})
ADDEND_STEP = 2.0**-9
CLAMP_EDGE = {"MINIMUM": 1, "MAXIMUM": 0}  # the end of the integer range a constant bound must sit on


@dataclass
class Outcome:
    model: Model
    kept_float: list = field(default_factory=list)  # plan.KeptFloat, in graph order
    tensor_map: dict = field(default_factory=dict)  # float tensor name -> tensor holding its value now
    widened: list = field(default_factory=list)  # labels of the ops of an int8 model run in int16x8


def quantize_integer(model: Model, ranges: dict, activation: str = "int8", io_type: str = "float32",
                     keep=lambda op: False, means: dict | None = None, stays_float: dict | None = None,
                     widen=lambda op: False) -> Outcome:
    """ranges: tensor name -> (min, max) from a calibrator; keep(op) -> True keeps that op float; means:
    tensor name -> per-channel mean of weighted ops' inputs, for bias correction (None: no correction);
    stays_float: op type -> why the target runs it in float (targets.py); widen(op) -> True runs that op
    of an int8 model with int16 activations (QUANTIZE converts between the two where they meet)."""
    if activation not in ACTIVATIONS:
        raise UsageError(f"activation type '{activation}': expected one of {', '.join(ACTIVATIONS)}")
    if io_type not in IO_TYPES[activation]:
        raise UsageError(f"--io-type {io_type} is not available with {activation} activations "
                         f"(expected one of {', '.join(IO_TYPES[activation])})")
    model = copy.deepcopy(model)
    graph = model.graph
    expand_weights(graph)
    rules, precision, kept = plan(graph, ranges, activation, keep, stays_float or {}, widen)
    params = assign_params(graph, rules, precision, ranges, io_type)
    widened = [op.label for op in graph.ops if precision.get(id(op), activation) != activation]
    rewriter = Rewriter(graph, rules, precision, params, io_type, means or {})
    rewriter.run()
    return Outcome(model, kept, rewriter.tensor_map(), widened)


class Rewriter:
    """Rebuilds the op list: integer ops on integer tensors, QUANTIZE/DEQUANTIZE where domains meet."""

    def __init__(self, graph: Graph, rules: dict, precision: dict, params: dict, io_type: str, means: dict):
        self.graph, self.rules, self.precision, self.params = graph, rules, precision, params
        self.io_type, self.means = io_type, means
        self.io_activation = io_activation(io_type)
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

    def as_int(self, t: Tensor, q: QuantParams, dtype: str) -> Tensor:
        """`t`'s value as a `dtype` tensor with parameters q (QUANTIZE once per dtype and q)."""
        current = self.int_of.get(id(t))
        if current is not None and current.dtype == dtype and same_quant_params(current.quant, q):
            return current
        key = (id(t), dtype, float(q.scale[0]), int(q.zero_point[0]))
        if key not in self.cache:
            src = current if current is not None else self.float_of[id(t)]
            new = Tensor(self.names(f"{t.name}/{'requantized' if current is not None else 'quantized'}"),
                         t.shape, dtype, quant=replace(q), sources=list(t.sources))
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
        if self.io_type == "float32" or (id(t), self.io_activation) not in self.params:
            self.track(t, None, t)
            return
        q = self.params[id(t), self.io_activation]
        if self.io_type == "uint8":
            q = shift_to_uint8(q)
        self.make_int(t, self.io_type, q)
        self.track(t, t, None)

    # -- ops ------------------------------------------------------------------------------------------
    def integer_op(self, op: Op, rule: Rule) -> None:
        dtype = self.precision[id(op)]
        floats = list(op.inputs)  # before quantization: what bias correction compares against
        shared = self.shared_params(op, rule, dtype)
        for i, t in enumerate(op.inputs):
            if is_float(t) or (t is not None and id(t) in self.int_of):
                op.inputs[i] = self.integer_input(op, rule, i, t, shared, dtype)
        if rule.bias and rule.bias[0] < len(op.inputs) and is_float(op.inputs[rule.bias[0]]):
            op.inputs[rule.bias[0]] = self.integer_bias(op, rule, floats, dtype)
        if dtype == "int16":
            op.options.update(rule.int16_options)
        if self.clamp_is_identity(op, shared, dtype):
            self.track(op.outputs[0], next(t for t in op.inputs if not t.is_constant), None)
            return
        self.ops.append(op)
        for j, t in enumerate(op.outputs):
            if is_float(t):
                self.integer_output(op, j, t, dtype)

    def shared_params(self, op: Op, rule: Rule, dtype: str) -> QuantParams | None:
        """The one set of parameters of a SAME or SHARED op (its output's), else None."""
        if rule.output not in (SAME, SHARED):
            return None
        ins, outs = activation_inputs(op), [t for t in op.outputs if is_float(t)]
        return self.params[id(outs[0]), dtype] if outs else self.params[id(ins[0]), dtype] if ins else None

    def clamp_is_identity(self, op: Op, shared: QuantParams | None, dtype: str) -> bool:
        """A MINIMUM (MAXIMUM) whose constant bound sits on the top (bottom) of the grid it shares with its
        input passes every input value through (plan.shared_params ends the grid there)."""
        edge = CLAMP_EDGE.get(op.type)
        if edge is None or id(op.outputs[0]) in self.outputs or len(op.inputs) != 2:
            return False
        bounds = [t for t in op.inputs if t.is_constant]
        xs = [t for t in op.inputs if not t.is_constant]
        if len(bounds) != 1 or len(xs) != 1 or list(xs[0].shape) != list(op.outputs[0].shape):
            return False
        limit = P.LIMITS[dtype][edge]
        return same_quant_params(xs[0].quant, shared) and bool(np.all(bounds[0].data == limit))

    def integer_input(self, op: Op, rule: Rule, i: int, t: Tensor, shared: QuantParams | None,
                      dtype: str) -> Tensor:
        if i in rule.weights and t.is_constant:
            return self.weight(t, rule.weights[i])
        if rule.bias and i == rule.bias[0] and t.is_constant:
            return t  # quantized once the input and the weights are (integer_bias)
        if t.is_constant:
            return self.constant(t, shared or self.constant_params(t, op, dtype), dtype)
        return self.as_int(t, shared if rule.output == SHARED else self.params[id(t), dtype], dtype)

    def integer_bias(self, op: Op, rule: Rule, floats: list, dtype: str) -> Tensor:
        """int32 (int64) bias at input scale x weight scale, corrected for the weights' mean shift."""
        b, x, w = (op.inputs[i] for i in rule.bias)
        mean = self.means.get(floats[rule.bias[1]].name)
        value = corrected_bias(op, b.data, floats[rule.bias[2]].data, P.dequantize_array(w.data, w.quant), mean)
        return self.bias(b, value, x.quant, w.quant, BIAS_TYPE[dtype])

    def integer_output(self, op: Op, j: int, t: Tensor, dtype: str) -> None:
        q = self.params[id(t), dtype]
        if id(t) not in self.outputs or self.io_type == dtype:
            self.make_int(t, dtype, q)
            self.track(t, t, None)
            return
        inner = Tensor(self.names(f"{t.name}/{dtype}"), t.shape, dtype, quant=replace(q), sources=list(t.sources))
        op.outputs[j] = inner
        if self.io_type == "float32":
            self.emit("DEQUANTIZE", inner, t)
            self.track(t, inner, t)
        else:
            io_q = self.params[id(t), self.io_activation]
            self.make_int(t, self.io_type, shift_to_uint8(io_q) if self.io_type == "uint8" else io_q)
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
            if id(t) in self.outputs and self.io_type != "float32" and (id(t), self.io_activation) in self.params:
                inner = Tensor(self.names(f"{t.name}/float"), t.shape, "float32", sources=list(t.sources))
                op.outputs[j] = inner
                q = self.params[id(t), self.io_activation]
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

    def constant_params(self, t: Tensor, op: Op, dtype: str) -> QuantParams:
        """The constant's own range; an ADD/SUB addend's step no finer than ADDEND_STEP of the output's."""
        lo, hi = (float(t.data.min()), float(t.data.max())) if t.data.size else (0.0, 0.0)
        out = self.params.get((id(op.outputs[0]), dtype)) if op.type in ADDENDS else None
        floor = float(out.scale[0]) * ADDEND_STEP if out is not None else 0.0
        return P.activation_params(lo, hi, dtype, min_scale=floor)

    def constant(self, t: Tensor, q: QuantParams, dtype: str) -> Tensor:
        key = (id(t), dtype, float(q.scale[0]), int(q.zero_point[0]))
        if key not in self.cache:
            self.cache[key] = self.const_tensor(t, P.quantize_array(t.data, q, dtype), q)
        return self.cache[key]

    def bias(self, b: Tensor, value: np.ndarray, input_q: QuantParams, weight_q: QuantParams,
             dtype: str) -> Tensor:
        q = P.bias_params(input_q, weight_q)
        key = (id(b), dtype, q.scale.tobytes(), np.asarray(value).tobytes())
        if key not in self.cache:
            data = P.quantize_bias(value, q, dtype)
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
