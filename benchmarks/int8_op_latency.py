"""int8 against float32 latency of single op types in ai-edge-litert (XNNPACK): what a CPU gains from int8
before any model-level effect (partitions, op counts) enters.

    python benchmarks/int8_op_latency.py [--runs 200] [--shape 12,48,64] [--depth 20] [--threads 1]

Each op type is a chain of --depth ops on an H,W,C activation (PP-OCR cls sizes by default), made float32
and int8 (each --target) by edgepress.quantize; all models run interleaved in one process (runtime_edge.bench): warm-up,
then --runs runs; medians and the ratio int8 / float32 (< 1: int8 is faster).
"""
import argparse

import numpy as np

from edgepress.convert.ir import Graph, Model, Op, Signature, Tensor
from edgepress.quantize import quantize
from edgepress.runtime_edge.bench import TfliteApiRunner, measure_interleaved

UNIT = {"padding": "SAME", "stride_h": 1, "stride_w": 1}


def chain(kind: str, shape: tuple, depth: int, rng) -> Model:
    """`depth` ops of one kind, each reading the previous one's output."""
    h, w, c = shape
    x = Tensor("x", (1, h, w, c))
    ops, t = [], x

    def const(dims, scale):
        return Tensor.constant(f"c{len(ops)}_{len(dims)}", (rng.standard_normal(dims) * scale).astype(np.float32))

    def emit(op_type, inputs, out_shape, options=None):
        out = Tensor(f"{op_type.lower()}{len(ops)}", out_shape)
        ops.append(Op(op_type, inputs, [out], dict(options or {})))
        return out

    axes = Tensor.constant("axes", np.array([1, 2], np.int32))
    for _ in range(depth):
        if kind == "DEPTHWISE_CONV_2D 3x3":
            t = emit("DEPTHWISE_CONV_2D", [t, const((1, 3, 3, c), 0.3), const((c,), 0.1)], t.shape,
                     {**UNIT, "depth_multiplier": 1})
        elif kind == "CONV_2D 1x1":
            t = emit("CONV_2D", [t, const((c, 1, 1, c), 1.2 / np.sqrt(c)), const((c,), 0.1)], t.shape,
                     {**UNIT, "fused_activation_function": "RELU"})
        elif kind == "HARD_SWISH":
            t = emit("HARD_SWISH", [t], t.shape)
        elif kind == "MUL by channel":
            t = emit("MUL", [t, emit("MEAN", [t, axes], (1, 1, 1, c), {"keep_dims": True})], t.shape)
    graph = Graph("main", [x], [t], ops)
    return Model([graph], [Signature("serving_default", 0, {"x": x}, {t.name: t})])


KINDS = ("DEPTHWISE_CONV_2D 3x3", "CONV_2D 1x1", "HARD_SWISH", "MUL by channel")
TARGETS = ("xnnpack", "builtin")  # --target: HARD_SWISH differs (ADD/MUL/MUL for xnnpack, TFLite's own op)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--shape", default="12,48,64", help="H,W,C of the activations")
    parser.add_argument("--depth", type=int, default=20, help="ops per chain")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    from ai_edge_litert.interpreter import Interpreter
    shape = tuple(int(v) for v in args.shape.split(","))
    rng = np.random.default_rng(0)
    runners = []
    for kind in KINDS:
        model = chain(kind, shape, args.depth, rng)
        samples = [{"x": rng.standard_normal((1, *shape)).astype(np.float32)} for _ in range(2)]
        runners.append(TfliteApiRunner(f"{kind}|float32", Interpreter, model.to_bytes(), args.threads))
        for target in TARGETS:
            qmodel, _ = quantize(model, "int8", calibration=samples, report_samples=0, target=target)
            runners.append(TfliteApiRunner(f"{kind}|{target}", Interpreter, qmodel.to_bytes(), args.threads))
    ms = {r.runtime: r.median_ms for r in measure_interleaved(runners, args.threads, args.runs, 3, False)}
    print(f"| op ({args.depth} in a chain, {shape}) | float32 ms | int8 ms, --target xnnpack | int8 / float32 | "
          "int8 ms, --target builtin | int8 / float32 |")
    print("|---" * 6 + "|")
    for kind in KINDS:
        f = ms[f"{kind}|float32"]
        cells = [f"{ms[f'{kind}|{t}']:.3f} | {ms[f'{kind}|{t}'] / f:.2f}" for t in TARGETS]
        print(f"| {kind} | {f:.3f} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
