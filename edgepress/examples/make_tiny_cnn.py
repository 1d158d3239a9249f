"""Builds tiny_cnn.onnx, the example model bundled with edgepress (`python -m edgepress.examples.make_tiny_cnn`).

A small image classifier with the shapes of a mobile network (conv + BatchNorm + ReLU, a depthwise-separable
block with a residual add and hard-swish, global pooling, a linear head and softmax); weights are seeded
random numbers, so the file is reproducible byte for byte.
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def build() -> onnx.ModelProto:
    rng = np.random.default_rng(2026)
    inits = []

    def weight(name, *shape, scale=0.2):
        inits.append(numpy_helper.from_array((rng.standard_normal(shape) * scale).astype(np.float32), name))
        return name

    def bn(prefix, c):
        weight(f"{prefix}.gamma", c, scale=0.1)
        inits[-1] = numpy_helper.from_array(1 + numpy_helper.to_array(inits[-1]), f"{prefix}.gamma")
        weight(f"{prefix}.beta", c, scale=0.1)
        weight(f"{prefix}.mean", c, scale=0.1)
        inits.append(numpy_helper.from_array(rng.uniform(0.5, 1.5, c).astype(np.float32), f"{prefix}.var"))
        return [f"{prefix}.gamma", f"{prefix}.beta", f"{prefix}.mean", f"{prefix}.var"]

    nodes = [
        helper.make_node("Conv", ["image", weight("stem.w", 16, 3, 3, 3)], ["stem.conv"], name="stem/conv",
                         kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1]),
        helper.make_node("BatchNormalization", ["stem.conv", *bn("stem.bn", 16)], ["stem.bn"], name="stem/bn"),
        helper.make_node("Relu", ["stem.bn"], ["stem.relu"], name="stem/relu"),
        helper.make_node("Conv", ["stem.relu", weight("block.dw.w", 16, 1, 3, 3)], ["block.dw"], name="block/dw",
                         kernel_shape=[3, 3], pads=[1, 1, 1, 1], group=16),
        helper.make_node("BatchNormalization", ["block.dw", *bn("block.bn1", 16)], ["block.bn1"], name="block/bn1"),
        helper.make_node("HardSwish", ["block.bn1"], ["block.act"], name="block/hswish"),
        helper.make_node("Conv", ["block.act", weight("block.pw.w", 16, 16, 1, 1), weight("block.pw.b", 16)],
                         ["block.pw"], name="block/pw", kernel_shape=[1, 1]),
        helper.make_node("Add", ["block.pw", "stem.relu"], ["block.out"], name="block/add"),
        helper.make_node("Conv", ["block.out", weight("head.w", 32, 16, 3, 3), weight("head.b", 32)], ["head.conv"],
                         name="head/conv", kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1]),
        helper.make_node("Clip", ["head.conv", "zero", "six"], ["head.relu6"], name="head/relu6"),
        helper.make_node("GlobalAveragePool", ["head.relu6"], ["pool"], name="head/pool"),
        helper.make_node("Flatten", ["pool"], ["flat"], name="head/flatten"),
        helper.make_node("Gemm", ["flat", weight("fc.w", 10, 32), weight("fc.b", 10)], ["logits"], name="head/fc",
                         transB=1),
        helper.make_node("Softmax", ["logits"], ["probabilities"], name="head/softmax", axis=1),
    ]
    inits += [numpy_helper.from_array(np.array(0, np.float32), "zero"),
              numpy_helper.from_array(np.array(6, np.float32), "six")]
    graph = helper.make_graph(nodes, "tiny_cnn",
                              [helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 3, 64, 64])],
                              [helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, [1, 10])],
                              initializer=inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="edgepress-example")
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


if __name__ == "__main__":
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "tiny_cnn.onnx")
    onnx.save(build(), out)
    print(f"wrote {out}")
