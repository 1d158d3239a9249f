"""Small float IR models for the quantization pass tests, built directly in the IR (seeded weights), and
the calibration ranges of their tensors on seeded random inputs."""
from __future__ import annotations

import numpy as np

from edgepress.convert.ir import Graph, Model, Op, Signature, Tensor


UNIT = {"padding": "SAME", "stride_h": 1, "stride_w": 1}  # schema defaults are 0


class Builder:
    def __init__(self, seed: int = 0):
        self.rng = np.random.default_rng(seed)
        self.ops: list[Op] = []
        self.n = 0

    def input(self, name, shape):
        return Tensor(name, shape)

    def const(self, shape, scale=1.0, name=None):
        self.n += 1
        return Tensor.constant(name or f"c{self.n}", (self.rng.standard_normal(shape) * scale).astype(np.float32))

    def op(self, op_type, inputs, shape, options=None, name=None, dtype="float32"):
        self.n += 1
        name = name or f"{op_type.lower()}{self.n}"
        out = Tensor(f"{name}:0", shape, dtype, sources=[name])
        self.ops.append(Op(op_type, inputs, [out], dict(options or {}), sources=[name]))
        return out

    def model(self, inputs, outputs) -> Model:
        g = Graph("main", list(inputs), list(outputs), self.ops)
        return Model([g], [Signature("serving_default", 0, {t.name: t for t in inputs},
                                     {t.name: t for t in outputs})])


def conv_net(seed: int = 0) -> Model:
    """conv(RELU) -> depthwise -> max pool -> [logistic | tanh] concat -> reshape -> FC -> softmax, plus a
    second output straight from the conv branch."""
    b = Builder(seed)
    x = b.input("image", (1, 8, 8, 3))
    h = b.op("CONV_2D", [x, b.const((8, 3, 3, 3), 0.3), b.const(8, 0.1)], (1, 8, 8, 8),
             {**UNIT, "fused_activation_function": "RELU"}, name="conv1")
    h = b.op("DEPTHWISE_CONV_2D", [h, b.const((1, 3, 3, 8), 0.3), b.const(8, 0.1)], (1, 8, 8, 8),
             {**UNIT, "depth_multiplier": 1}, name="dw")
    p = b.op("MAX_POOL_2D", [h], (1, 4, 4, 8), {"padding": "VALID", "filter_height": 2, "filter_width": 2,
                                                 "stride_h": 2, "stride_w": 2}, name="pool")
    s = b.op("LOGISTIC", [p], (1, 4, 4, 8), name="sig")
    t = b.op("TANH", [p], (1, 4, 4, 8), name="tanh")
    a = b.op("ADD", [p, b.const((1, 1, 1, 8))], (1, 4, 4, 8), name="add")
    c = b.op("CONCATENATION", [s, t, a], (1, 4, 4, 24), {"axis": 3}, name="cat")
    f = b.op("RESHAPE", [c, Tensor.constant("shape", np.array([1, 384], np.int32))], (1, 384), name="flat")
    y = b.op("FULLY_CONNECTED", [f, b.const((10, 384), 0.05), b.const(10, 0.1)], (1, 10), name="fc")
    prob = b.op("SOFTMAX", [y], (1, 10), {"beta": 1.0}, name="softmax")
    return b.model([x], [prob, a])


def feeds_for(model: Model, n: int, seed: int = 1) -> list[dict]:
    rng = np.random.default_rng(seed)
    return [{t.name: rng.standard_normal(t.shape).astype(np.float32) for t in model.graph.inputs} for _ in range(n)]


def calibrated(model: Model, feeds: list[dict], calibrator: str = "minmax") -> dict:
    """tensor name -> (lo, hi), through the calibration pass itself."""
    from edgepress.quantize.calibrate import collect
    from edgepress.quantize.calibrators import NEEDS_HISTOGRAM, ranges
    return ranges(collect(model, feeds, histograms=calibrator in NEEDS_HISTOGRAM).stats, calibrator)
