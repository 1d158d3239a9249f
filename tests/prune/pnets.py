"""Small ONNX models for the pruning tests, built node by node with seeded weights.

`dead` channels are made exactly zero wherever they flow (zero weight rows and biases in every producer,
BatchNorm shifts that keep zero at zero, zero depthwise biases): removing them must leave the outputs
unchanged, which onnxruntime on the unpruned model checks with no help from edgepress. Activations on dead
paths map 0 to 0 (Relu, HardSwish, PRelu)."""
from __future__ import annotations

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

IR_VERSION = 10
OPSET = 14


class Net:
    def __init__(self, seed: int, shape=(1, 3, 16, 16)):
        self.rng = np.random.default_rng(seed)
        self.shape = tuple(shape)
        self.nodes, self.inits, self.n = [], [], 0

    def _name(self, base: str) -> str:
        self.n += 1
        return f"{base}{self.n}"

    def const(self, value, base="k") -> str:
        name = self._name(base)
        self.inits.append(numpy_helper.from_array(np.asarray(value, dtype=np.float32), name))
        return name

    def node(self, op_type, inputs, **attrs) -> str:
        out = self._name(op_type.lower())
        self.nodes.append(helper.make_node(op_type, inputs, [out], name=f"{op_type}_{self.n}", **attrs))
        return out

    def conv(self, x, cin, cout, k=3, stride=1, group=1, dead=(), bn=True) -> str:
        w = self.rng.standard_normal((cout, cin // group, k, k)).astype(np.float32) / np.sqrt(cin // group * k * k)
        b = self.rng.standard_normal(cout).astype(np.float32) * 0.1
        w[list(dead)] = 0
        b[list(dead)] = 0
        y = self.node("Conv", [x, self.const(w, "w"), self.const(b, "b")], kernel_shape=[k, k],
                      strides=[stride, stride], pads=[k // 2] * 4, group=group)
        return self.bn(y, cout, dead) if bn else y

    def depthwise(self, x, c, multiplier=1, dead=()) -> str:
        """dead: input channels whose outputs stay zero (their biases are zero)."""
        w = self.rng.standard_normal((c * multiplier, 1, 3, 3)).astype(np.float32) / 3
        b = self.rng.standard_normal(c * multiplier).astype(np.float32) * 0.1
        for d in dead:
            b[d * multiplier:(d + 1) * multiplier] = 0
        return self.node("Conv", [x, self.const(w, "w"), self.const(b, "b")], kernel_shape=[3, 3], pads=[1] * 4,
                         group=c)

    def bn(self, x, c, dead=()) -> str:
        gamma = self.rng.uniform(0.5, 1.5, c).astype(np.float32)
        beta = self.rng.standard_normal(c).astype(np.float32) * 0.1
        mean = self.rng.standard_normal(c).astype(np.float32) * 0.1
        var = self.rng.uniform(0.5, 1.5, c).astype(np.float32)
        beta[list(dead)] = 0
        mean[list(dead)] = 0
        return self.node("BatchNormalization", [x, *(self.const(v) for v in (gamma, beta, mean, var))])

    def transpose_conv(self, x, cin, cout, dead=()) -> str:
        w = self.rng.standard_normal((cin, cout, 2, 2)).astype(np.float32) / np.sqrt(cin)
        b = self.rng.standard_normal(cout).astype(np.float32) * 0.1
        w[:, list(dead)] = 0
        b[list(dead)] = 0
        return self.node("ConvTranspose", [x, self.const(w, "w"), self.const(b, "b")], kernel_shape=[2, 2],
                         strides=[2, 2])

    def prelu(self, x, c) -> str:
        return self.node("PRelu", [x, self.const(self.rng.uniform(0.05, 0.3, (c, 1, 1)))])

    def gemm(self, x, cin, cout) -> str:
        w = self.rng.standard_normal((cout, cin)).astype(np.float32) / np.sqrt(cin)
        return self.node("Gemm", [x, self.const(w, "w"), self.const(self.rng.standard_normal(cout) * 0.1, "b")],
                         transB=1)

    def se(self, x, c, squeeze) -> str:
        """Squeeze-and-excitation: x * hardsigmoid(conv(hardswish(conv(mean(x)))))."""
        s = self.node("GlobalAveragePool", [x])
        s = self.node("HardSwish", [self.conv(s, c, squeeze, k=1, bn=False)])
        gate = self.node("HardSigmoid", [self.conv(s, squeeze, c, k=1, bn=False)])
        return self.node("Mul", [x, gate])

    def model(self, outputs) -> onnx.ModelProto:
        x = helper.make_tensor_value_info("x", TensorProto.FLOAT, self.shape)
        graph = helper.make_graph(self.nodes, "net", [x], [], initializer=self.inits)
        m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], ir_version=IR_VERSION)
        inferred = onnx.shape_inference.infer_shapes(m, strict_mode=True)
        known = {vi.name: vi for vi in inferred.graph.value_info}
        m.graph.output.extend(known[o] for o in outputs)
        onnx.checker.check_model(m)
        return m


def conv_chain(seed=0):
    """conv-bn-relu x3 -> global pool -> flatten -> gemm. Dead: 3 channels of conv1, 5 of conv2, 4 of conv3."""
    n = Net(seed)
    y = n.node("Relu", [n.conv("x", 3, 16, dead=(1, 7, 12))])
    y = n.node("HardSwish", [n.conv(y, 16, 24, dead=(0, 5, 6, 20, 23))])
    y = n.node("Relu", [n.conv(y, 24, 32, k=1, dead=(3, 9, 17, 30))])
    y = n.node("Flatten", [n.node("GlobalAveragePool", [y])])
    return n.model([n.gemm(y, 32, 10)]), 12


def depthwise_separable(seed=0):
    """Stem, two depthwise-separable blocks (PRelu, SE gate, a depthwise multiplier of 2). HardSwish rather
    than Relu: random weights would leave Relu channels zero on every input, as dead as the dead ones."""
    n = Net(seed)
    y = n.node("HardSwish", [n.conv("x", 3, 16, stride=2, dead=(2, 9))])
    y = n.node("HardSwish", [n.bn(n.depthwise(y, 16, dead=(2, 9)), 16, dead=(2, 9))])
    y = n.prelu(n.conv(y, 16, 32, k=1, dead=(4, 5, 31)), 32)
    y = n.se(n.node("HardSwish", [n.depthwise(y, 32, dead=(4, 5, 31))]), 32, 8)
    y = n.node("HardSwish", [n.conv(y, 32, 24, k=1, dead=(11,))])
    y = n.node("HardSwish", [n.depthwise(y, 24, multiplier=2, dead=(11,))])
    return n.model([n.conv(y, 48, 8, k=1)]), 2 + 3 + 1


def residual(seed=0):
    """Two residual blocks on a 16-channel stream; dead stream channels are dead in every branch."""
    n = Net(seed)
    stream_dead = (3, 8)
    x = n.node("Relu", [n.conv("x", 3, 16, dead=stream_dead)])
    for _ in range(2):
        h = n.node("Relu", [n.conv(x, 16, 32, dead=(0, 1, 2))])
        x = n.node("Relu", [n.node("Add", [x, n.conv(h, 32, 16, dead=stream_dead)])])
    return n.model([n.conv(x, 16, 8, k=1)]), 2 + 3 + 3


def concat_resize(seed=0):
    """Two branches concatenated along channels, a max pool and a nearest 2x resize, then a transpose conv."""
    n = Net(seed)
    a = n.node("Relu", [n.conv("x", 3, 12, dead=(0, 11))])
    b = n.node("Relu", [n.conv("x", 3, 20, k=1, dead=(5,))])
    y = n.node("Concat", [a, b], axis=1)
    y = n.node("MaxPool", [n.node("Relu", [n.conv(y, 32, 16, dead=(7, 8))])], kernel_shape=[2, 2], strides=[2, 2])
    y = n.node("Resize", [y, "", n.const([1, 1, 2, 2])], mode="nearest")
    y = n.node("Relu", [n.transpose_conv(y, 16, 12, dead=(1, 2, 3))])
    return n.model([n.conv(y, 12, 4, k=1)]), 3 + 2 + 3


def flatten_fc(seed=0):
    """A spatial map flattened (NCHW order: a transpose then a reshape after layout) into two gemms."""
    n = Net(seed, shape=(1, 3, 8, 8))
    y = n.node("Relu", [n.conv("x", 3, 8, stride=2, dead=(2, 5))])
    y = n.node("Relu", [n.gemm(n.node("Flatten", [y]), 8 * 4 * 4, 24)])
    return n.model([n.gemm(y, 24, 5)]), 2


def grouped(seed=0):
    """A grouped conv (4 groups): a position removed from one group is removed from all of them."""
    n = Net(seed)
    # input positions 1 and 3 of each group of 4 (channels 1,3,5,7,...), output position 0 of each group of 8
    y = n.node("Relu", [n.conv("x", 3, 16, dead=(1, 3, 5, 7, 9, 11, 13, 15))])
    y = n.node("Relu", [n.conv(y, 16, 32, group=4, dead=(0, 8, 16, 24))])
    return n.model([n.conv(y, 32, 8, k=1)]), 2 + 1


DEAD_MODELS = {"conv_chain": conv_chain, "depthwise_separable": depthwise_separable, "residual": residual,
               "concat_resize": concat_resize, "flatten_fc": flatten_fc, "grouped": grouped}


def deep_separable(seed=0, blocks=4):
    """A random MobileNet-like stack (no dead channels) for targets, repair and sparsity."""
    n = Net(seed, shape=(1, 3, 24, 24))
    y = n.node("HardSwish", [n.conv("x", 3, 16, stride=2)])
    c = 16
    for i in range(blocks):
        wide = c * 3
        h = n.node("Relu", [n.conv(y, c, wide, k=1)])
        h = n.node("Relu", [n.bn(n.depthwise(h, wide), wide)])
        h = n.conv(h, wide, c, k=1)
        y = n.node("Add", [y, h]) if i % 2 else h
    y = n.node("Relu", [n.conv(y, c, 64, k=1)])
    return n.model([n.gemm(n.node("Flatten", [n.node("GlobalAveragePool", [y])]), 64, 10)])


def feeds(model: onnx.ModelProto, n: int, seed: int) -> list:
    shape = [d.dim_value for d in model.graph.input[0].type.tensor_type.shape.dim]
    rng = np.random.default_rng(seed)
    return [{"x": rng.standard_normal(shape).astype(np.float32)} for _ in range(n)]
