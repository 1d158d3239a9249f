"""Rewrites of ONNX subgraphs into single standard ONNX ops before lowering.

Exporters decompose ops that older opsets lack: LayerNormalization (ReduceMean, Sub, Pow 2, ReduceMean,
Add eps, Sqrt, Div, then Mul gamma, Add beta — PyTorch before opset 17, Paddle) and GELU (x * 0.5 *
(1 + erf(x / sqrt 2)), or its tanh approximation). Fusing them back gives one TFLite GELU, and a layer
norm lowered with RSQRT rather than SQRT and DIV. A match requires every intermediate value to be used
only inside the pattern (and not be a graph output), and the constants to be what the math says.
"""
from __future__ import annotations

import math

import numpy as np
from onnx import helper, numpy_helper

SQRT2 = math.sqrt(2.0)
SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
GELU_CUBIC = 0.044715
RTOL = 1e-5  # exporters write these constants rounded to float32, some to fewer digits


class NodeIndex:
    """Producers, users and constant values of an ONNX node list."""

    def __init__(self, nodes: list, values: dict, outputs):
        self.producer = {o: n for n in nodes for o in n.output if o}
        self.users: dict[str, list] = {}
        for n in nodes:
            for name in dict.fromkeys(i for i in n.input if i):
                self.users.setdefault(name, []).append(n)
        self.outputs = set(outputs)
        self.values = dict(values)
        for n in nodes:
            if n.op_type == "Constant" and n.domain in ("", "ai.onnx"):
                value = constant_node_value(n)
                if value is not None:
                    self.values[n.output[0]] = value

    def sole_user(self, name: str, *op_types):
        """The one node reading `name` if it has one of op_types and `name` is no graph output."""
        users = self.users.get(name, [])
        if len(users) != 1 or name in self.outputs or users[0].op_type not in op_types:
            return None
        return users[0]

    def made_by(self, name: str, *op_types):
        node = self.producer.get(name)
        return node if node is not None and node.op_type in op_types else None

    def scalar(self, name: str):
        """The value of a constant whose elements are all equal, else None."""
        v = self.values.get(name)
        if v is None or v.size == 0 or not np.all(v == v.reshape(-1)[0]):
            return None
        return float(v.reshape(-1)[0])

    def is_scalar(self, name: str, expected: float) -> bool:
        v = self.scalar(name)
        return v is not None and abs(v - expected) <= RTOL * abs(expected)


def constant_node_value(node) -> np.ndarray | None:
    for a in node.attribute:
        if a.name == "value":
            return numpy_helper.to_array(a.t)
        if a.name in ("value_float", "value_floats", "value_int", "value_ints"):
            return np.array(helper.get_attribute_value(a))
    return None


def other_operand(node, name: str):
    """For a binary node reading `name`, its other input (`name` itself for x * x)."""
    a, b = node.input[0], node.input[1]
    return b if a == name else a if b == name else None


def attribute(node, name: str, default=None):
    for a in node.attribute:
        if a.name == name:
            return helper.get_attribute_value(a)
    return default


# -- LayerNormalization --------------------------------------------------------------------------------
def reduce_mean_axes(idx: NodeIndex, node):
    """The axes of a keepdims ReduceMean (attribute before opset 18, constant input after), else None."""
    if attribute(node, "keepdims", 1) != 1:
        return None
    axes = attribute(node, "axes")
    if axes is None and len(node.input) > 1 and node.input[1]:
        value = idx.values.get(node.input[1])
        axes = None if value is None else [int(a) for a in value.reshape(-1)]
    return None if axes is None else sorted(int(a) for a in axes)


def trailing_axis(axes: list, rank: int | None):
    """The first axis when axes are the trailing axes of the input (axis..rank-1), else None."""
    if rank is not None:
        axes = sorted(a + rank if a < 0 else a for a in axes)
        return axes[0] if axes == list(range(axes[0], rank)) else None
    return axes[0] if axes == list(range(-len(axes), 0)) else None


def match_layer_norm(idx: NodeIndex, div, ranks: dict):
    """Div(d, Sqrt(Add(ReduceMean(Pow(d, 2)), eps))) with d = Sub(x, ReduceMean(x)), then optionally Mul
    by a constant gamma and Add a constant beta."""
    d, s = div.input
    sub, sqrt = idx.made_by(d, "Sub"), idx.made_by(s, "Sqrt")
    if sub is None or sqrt is None or idx.sole_user(s, "Div") is not div:
        return None
    x, m = sub.input
    mean = idx.made_by(m, "ReduceMean")
    add_eps = idx.made_by(sqrt.input[0], "Add")
    if mean is None or mean.input[0] != x or idx.sole_user(m, "Sub") is not sub or add_eps is None:
        return None
    if idx.sole_user(sqrt.input[0], "Sqrt") is not sqrt:
        return None
    var_name = next((i for i in add_eps.input if idx.scalar(i) is None), None)
    eps_name = other_operand(add_eps, var_name) if var_name else None
    var = idx.made_by(var_name, "ReduceMean") if var_name else None
    if var is None or idx.scalar(eps_name) is None or idx.sole_user(var_name, "Add") is not add_eps:
        return None
    square = idx.made_by(var.input[0], "Pow", "Mul")
    if square is None or idx.sole_user(var.input[0], "ReduceMean") is not var:
        return None
    if square.op_type == "Pow" and (square.input[0] != d or not idx.is_scalar(square.input[1], 2.0)):
        return None
    if square.op_type == "Mul" and list(square.input) != [d, d]:
        return None
    if {id(n) for n in idx.users.get(d, [])} != {id(square), id(div)} or d in idx.outputs:
        return None
    axes = reduce_mean_axes(idx, mean)
    axis = None if axes is None or axes != reduce_mean_axes(idx, var) else trailing_axis(axes, ranks.get(x))
    if axis is None:
        return None
    nodes = [mean, sub, square, var, add_eps, sqrt, div]
    y = div.output[0]
    scale = bias = None
    mul = idx.sole_user(y, "Mul")
    if mul is not None and idx.values.get(other_operand(mul, y)) is not None:
        scale, y = other_operand(mul, y), mul.output[0]
        nodes.append(mul)
    add = idx.sole_user(y, "Add")
    if add is not None and idx.values.get(other_operand(add, y)) is not None:
        bias, y = other_operand(add, y), add.output[0]
        nodes.append(add)
    name = nodes[-1].name or y
    new = []
    if scale is None:
        scale = f"{name}/unit_scale"
        new.append(helper.make_node("Constant", [], [scale], name=scale,
                                    value=numpy_helper.from_array(np.ones(1, np.float32))))
    inputs = [x, scale] + ([bias] if bias is not None else [])
    new.append(helper.make_node("LayerNormalization", inputs, [y], name=name, axis=axis,
                                epsilon=idx.scalar(eps_name)))
    return nodes, new


# -- GELU ------------------------------------------------------------------------------------------------
def match_gelu_tail(idx: NodeIndex, x: str, f: str):
    """x * 0.5 * f in its arrangements: (x * f) * 0.5, (x * 0.5) * f, (f * 0.5) * x. Returns
    (nodes, output name) or None."""
    m1 = idx.sole_user(f, "Mul")
    if m1 is None:
        return None
    other = other_operand(m1, f)
    if other == x or idx.is_scalar(other, 0.5):
        m2 = idx.sole_user(m1.output[0], "Mul")
        if m2 is None:
            return None
        last = other_operand(m2, m1.output[0])
        if (other == x and idx.is_scalar(last, 0.5)) or (other != x and last == x):
            return [m1, m2], m2.output[0]
        return None
    half = idx.made_by(other, "Mul")
    if (half is not None and idx.sole_user(other, "Mul") is m1 and x in half.input
            and idx.is_scalar(other_operand(half, x), 0.5)):
        return [half, m1], m1.output[0]
    return None


def match_erf_gelu(idx: NodeIndex, erf):
    """Erf(x / sqrt 2) or Erf(x * (1 / sqrt 2)), + 1, times x * 0.5."""
    a = erf.input[0]
    scale = idx.made_by(a, "Div", "Mul")
    if scale is None or idx.sole_user(a, "Erf") is not erf:
        return None
    if scale.op_type == "Div":
        x = scale.input[0] if idx.is_scalar(scale.input[1], SQRT2) else None
    else:
        x = next((i for i in scale.input if idx.is_scalar(other_operand(scale, i), 1 / SQRT2)), None)
    plus = idx.sole_user(erf.output[0], "Add")
    if x is None or plus is None or not idx.is_scalar(other_operand(plus, erf.output[0]), 1.0):
        return None
    tail = match_gelu_tail(idx, x, plus.output[0])
    if tail is None:
        return None
    rest, y = tail
    nodes = [scale, erf, plus, *rest]
    return nodes, [helper.make_node("Gelu", [x], [y], name=rest[-1].name or y, approximate="none")]


def cube_of(idx: NodeIndex, name: str):
    """x when `name` is Pow(x, 3), x * (x * x) or (x * x) * x, used only where the pattern uses it."""
    node = idx.made_by(name, "Pow", "Mul")
    if node is None:
        return None, []
    if node.op_type == "Pow":
        return (node.input[0], [node]) if idx.is_scalar(node.input[1], 3.0) else (None, [])
    for sq_name, x in ((node.input[0], node.input[1]), (node.input[1], node.input[0])):
        sq = idx.made_by(sq_name, "Mul")
        if sq is not None and list(sq.input) == [x, x] and idx.sole_user(sq_name, "Mul") is node:
            return x, [sq, node]
    return None, []


def match_tanh_gelu(idx: NodeIndex, tanh):
    """Tanh(sqrt(2/pi) * (x + 0.044715 * x^3)), + 1, times x * 0.5."""
    inner = tanh.input[0]
    scaled = idx.made_by(inner, "Mul")
    if scaled is None or idx.sole_user(inner, "Tanh") is not tanh:
        return None
    total = next((i for i in scaled.input if idx.is_scalar(other_operand(scaled, i), SQRT_2_OVER_PI)), None)
    add = idx.made_by(total, "Add") if total else None
    if add is None or idx.sole_user(total, "Mul") is not scaled:
        return None
    for x, term in ((add.input[0], add.input[1]), (add.input[1], add.input[0])):
        mul = idx.made_by(term, "Mul")
        if mul is None or idx.sole_user(term, "Add") is not add:
            continue
        cube = next((i for i in mul.input if idx.is_scalar(other_operand(mul, i), GELU_CUBIC)), None)
        base, cube_nodes = cube_of(idx, cube) if cube else (None, [])
        if base != x or idx.sole_user(cube, "Mul") is not mul:
            continue
        plus = idx.sole_user(tanh.output[0], "Add")
        if plus is None or not idx.is_scalar(other_operand(plus, tanh.output[0]), 1.0):
            return None
        tail = match_gelu_tail(idx, x, plus.output[0])
        if tail is None:
            return None
        rest, y = tail
        nodes = [*cube_nodes, mul, add, scaled, tanh, plus, *rest]
        return nodes, [helper.make_node("Gelu", [x], [y], name=rest[-1].name or y, approximate="tanh")]
    return None


def fuse_patterns(nodes: list, values: dict, outputs=(), value_info: dict | None = None) -> list:
    """nodes: the graph's NodeProtos in order; values: ONNX name -> constant numpy value (initializers);
    outputs: the graph output names (never fused away); value_info: ONNX name -> (shape, dtype), which
    tells the rank a layer norm's positive axes refer to. Returns the node list with known
    decompositions fused."""
    nodes = list(nodes)
    ranks = {name: len(shape) for name, (shape, _) in (value_info or {}).items() if shape is not None}
    rules = {"Div": lambda idx, n: match_layer_norm(idx, n, ranks), "Erf": match_erf_gelu,
             "Tanh": match_tanh_gelu}
    idx = NodeIndex(nodes, values, outputs)
    replaced: dict[int, list] = {}  # id(last node of a match) -> new nodes
    removed: set[int] = set()
    position = {id(n): i for i, n in enumerate(nodes)}
    for node in nodes:
        rule = rules.get(node.op_type) if node.domain in ("", "ai.onnx") else None
        match = rule(idx, node) if rule else None
        if match is None:
            continue
        old, new = match
        if any(id(n) in removed for n in old):
            continue
        removed.update(id(n) for n in old)
        replaced[id(max(old, key=lambda n: position[id(n)]))] = new
    fused = []
    for node in nodes:
        if id(node) in replaced:
            fused.extend(replaced[id(node)])
        elif id(node) not in removed:
            fused.append(node)
    return fused

