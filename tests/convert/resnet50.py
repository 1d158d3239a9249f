"""A ResNet-50-shaped ONNX model (about 25.5 M parameters, seeded random weights) built with onnx.helper."""
import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def build_resnet50(seed: int = 0) -> onnx.ModelProto:
    rng = np.random.default_rng(seed)
    nodes, inits = [], []
    counter = [0]

    def name(prefix):
        counter[0] += 1
        return f"{prefix}{counter[0]}"

    def const(prefix, array):
        n = name(prefix)
        inits.append(numpy_helper.from_array(array.astype(np.float32), n))
        return n

    def conv_bn(x, cin, cout, k, stride=1, relu=True):
        w = const("w", rng.standard_normal((cout, cin, k, k), dtype=np.float32) * np.sqrt(2.0 / (cin * k * k)))
        y = name("conv")
        nodes.append(helper.make_node("Conv", [x, w], [y], name=y, kernel_shape=[k, k], strides=[stride, stride],
                                      pads=[k // 2] * 4))
        bn = [const("g", 1 + 0.1 * rng.standard_normal(cout)), const("b", 0.1 * rng.standard_normal(cout)),
              const("m", 0.1 * rng.standard_normal(cout)), const("v", rng.uniform(0.5, 1.5, cout))]
        z = name("bn")
        nodes.append(helper.make_node("BatchNormalization", [y, *bn], [z], name=z))
        if not relu:
            return z
        r = name("relu")
        nodes.append(helper.make_node("Relu", [z], [r], name=r))
        return r

    x = conv_bn("input", 3, 64, 7, 2)
    p = name("pool")
    nodes.append(helper.make_node("MaxPool", [x], [p], name=p, kernel_shape=[3, 3], strides=[2, 2], pads=[1] * 4))
    x, cin = p, 64
    for stage, (blocks, width) in enumerate([(3, 64), (4, 128), (6, 256), (3, 512)]):
        for b in range(blocks):
            stride = 2 if b == 0 and stage > 0 else 1
            y = conv_bn(x, cin, width, 1)
            y = conv_bn(y, width, width, 3, stride)
            y = conv_bn(y, width, width * 4, 1, relu=False)
            shortcut = conv_bn(x, cin, width * 4, 1, stride, relu=False) if b == 0 else x
            s, r = name("add"), name("relu")
            nodes += [helper.make_node("Add", [y, shortcut], [s], name=s), helper.make_node("Relu", [s], [r], name=r)]
            x, cin = r, width * 4
    nodes += [helper.make_node("GlobalAveragePool", [x], ["gap"], name="gap"),
              helper.make_node("Flatten", ["gap"], ["flat"], name="flatten"),
              helper.make_node("Gemm", ["flat", const("fc_w", rng.standard_normal((1000, 2048)) * 0.01),
                                        const("fc_b", np.zeros(1000))], ["logits"], name="fc", transB=1)]
    graph = helper.make_graph(nodes, "resnet50", [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3, 224, 224])],
                              [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, 1000])], initializer=inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])


def weight_bytes(model: onnx.ModelProto) -> int:
    return sum(int(np.prod(i.dims)) * 4 for i in model.graph.initializer)
