"""Small ONNX models for the quantization tests (seeded weights), written as files for the CLI and `load`."""
from __future__ import annotations

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


class Net:
    """Builds a graph node by node; weights are seeded and scaled so activations stay O(1)."""

    def __init__(self, seed: int):
        self.rng = np.random.default_rng(seed)
        self.nodes, self.inits, self.n = [], [], 0

    def weight(self, shape, fan_in=None):
        self.n += 1
        name = f"w{self.n}"
        fan_in = fan_in or int(np.prod(shape[1:]))
        value = self.rng.standard_normal(shape).astype(np.float32) * np.float32(1.5 / np.sqrt(fan_in))
        self.inits.append(numpy_helper.from_array(value, name))
        return name

    def const(self, value):
        self.n += 1
        name = f"k{self.n}"
        self.inits.append(numpy_helper.from_array(np.asarray(value), name))
        return name

    def node(self, op_type, inputs, name, **attrs):
        self.nodes.append(helper.make_node(op_type, inputs, [name], name=name, **attrs))
        return name

    def conv(self, x, cin, cout, name, k=3, group=1, stride=1):
        w = self.weight((cout, cin // group, k, k))
        b = self.const((self.rng.standard_normal(cout) * 0.1).astype(np.float32))
        return self.node("Conv", [x, w, b], name, kernel_shape=[k, k], pads=[k // 2] * 4, group=group,
                         strides=[stride, stride])

    def model(self, inputs: dict, outputs: list) -> onnx.ModelProto:
        graph = helper.make_graph(
            self.nodes, "net", [helper.make_tensor_value_info(n, TensorProto.FLOAT, s) for n, s in inputs.items()],
            [helper.make_tensor_value_info(o, TensorProto.FLOAT, None) for o in outputs], initializer=self.inits)
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
        model = onnx.shape_inference.infer_shapes(model)
        onnx.checker.check_model(model)
        return model


def cnn(seed: int = 0) -> onnx.ModelProto:
    """conv+relu, depthwise+relu6, max pool, 1x1 conv, swish (x * sigmoid), residual add, global average
    pool, gemm, softmax."""
    n = Net(seed)
    h = n.node("Relu", [n.conv("image", 3, 16, "conv1")], "relu1")
    h = n.node("Clip", [n.conv(h, 16, 16, "dw1", group=16), n.const(np.float32(0)), n.const(np.float32(6))], "relu6")
    h = n.node("MaxPool", [h], "pool", kernel_shape=[2, 2], strides=[2, 2])
    p = n.conv(h, 16, 24, "conv2", k=1)
    s = n.node("Mul", [p, n.node("Sigmoid", [p], "sigmoid")], "swish")
    r = n.node("Add", [s, n.conv(s, 24, 24, "conv3")], "residual")
    g = n.node("GlobalAveragePool", [r], "gap")
    f = n.node("Flatten", [g], "flatten")
    y = n.node("Gemm", [f, n.weight((10, 24)), n.const(np.zeros(10, np.float32))], "fc", transB=1)
    n.node("Softmax", [y], "prob", axis=1)
    return n.model({"image": [1, 3, 16, 16]}, ["prob"])


def branches(seed: int = 1) -> onnx.ModelProto:
    """two conv branches concatenated, average pool, tanh, reshape, matmul + bias, leaky relu; two outputs."""
    n = Net(seed)
    a = n.node("Relu", [n.conv("x", 4, 8, "left")], "left_relu")
    b = n.conv("x", 4, 6, "right", k=1)
    c = n.node("Concat", [a, b], "concat", axis=1)
    p = n.node("AveragePool", [c], "avgpool", kernel_shape=[2, 2], strides=[2, 2])
    t = n.node("Tanh", [p], "tanh")
    r = n.node("Reshape", [t, n.const(np.array([1, 14 * 4 * 4], np.int64))], "reshape")
    m = n.node("MatMul", [r, n.weight((14 * 4 * 4, 12), fan_in=224)], "matmul")
    d = n.node("Add", [m, n.const((n.rng.standard_normal(12) * 0.1).astype(np.float32))], "bias")
    n.node("LeakyRelu", [d], "out", alpha=0.1)
    return n.model({"x": [1, 4, 8, 8]}, ["out", "tanh"])


def conv_heavy(seed: int = 2) -> onnx.ModelProto:
    """Mostly 3x3 convolution weights (about 100k), the case where int8 shrinks a file about 4x."""
    n = Net(seed)
    h = "x"
    for i, (cin, cout) in enumerate([(3, 32), (32, 64), (64, 64), (64, 64)]):
        h = n.node("Relu", [n.conv(h, cin, cout, f"conv{i}", stride=2 if i == 1 else 1)], f"relu{i}")
    n.node("GlobalAveragePool", [h], "gap")
    return n.model({"x": [1, 3, 16, 16]}, ["gap"])


MODELS = {"cnn": cnn, "branches": branches, "conv_heavy": conv_heavy}


def input_samples(model: onnx.ModelProto, n: int, seed: int = 7) -> list[dict]:
    """Seeded samples uniform in [-2, 2] for every graph input: bounded like pixels, so held-out samples stay
    within the calibrated input range."""
    rng = np.random.default_rng(seed)
    shapes = {i.name: [d.dim_value for d in i.type.tensor_type.shape.dim] for i in model.graph.input}
    return [{name: rng.uniform(-2, 2, shape).astype(np.float32) for name, shape in shapes.items()} for _ in range(n)]


def loaded(proto: onnx.ModelProto, folder, name: str, samples: int = 24, held_out: int = 8):
    """(IR of `proto` saved as folder/name.onnx and loaded, calibration samples, held-out samples)."""
    from edgepress.convert import load
    path = folder / f"{name}.onnx"
    onnx.save(proto, path)
    feeds = input_samples(proto, samples)
    return load(str(path)), feeds[:-held_out], feeds[-held_out:]
