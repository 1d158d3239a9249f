"""Run one integer op through our quantized reference and through ai-edge-litert (its reference kernels, and
its default kernels with XNNPACK), on the same int8/int16 inputs and parameters."""
from __future__ import annotations

import numpy as np

from edgepress.convert.ir import Graph, Model, Op, QuantParams, Tensor
from edgepress.convert.reference.quantized import quantized_reference


def qtensor(name, shape, dtype, scale, zero=0, data=None, axis=0):
    t = Tensor(name, shape, dtype) if data is None else Tensor.constant(name, data)
    t.quant = QuantParams(scale, zero if np.ndim(zero) else np.full(np.size(scale), zero), axis=axis)
    return t


def random_int(shape, dtype, seed, lo=None, hi=None):
    info = np.iinfo(dtype)
    rng = np.random.default_rng(seed)
    return rng.integers(info.min if lo is None else lo, (info.max if hi is None else hi) + 1, shape).astype(dtype)


def ours(op: Op, feeds: list) -> np.ndarray:
    fn = quantized_reference(op)
    assert fn is not None, f"no quantized reference for {op.type}"
    args = [None if t is None else (t.data if t.is_constant else x) for t, x in zip(op.inputs, feeds)]
    return np.asarray(fn(op, *args)).astype(op.outputs[0].dtype)


def litert(op: Op, feeds: list, reference_kernels: bool) -> np.ndarray:
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    from edgepress.convert.tflite.writer import serialize
    live = [(t, x) for t, x in zip(op.inputs, feeds) if t is not None and not t.is_constant]
    graph = Graph(inputs=[t for t, _ in live], outputs=list(op.outputs), ops=[op])
    resolver = OpResolverType.BUILTIN_REF if reference_kernels else OpResolverType.AUTO
    interp = Interpreter(model_content=serialize(Model(graphs=[graph])), num_threads=1,
                         experimental_op_resolver_type=resolver)
    interp.allocate_tensors()
    for detail, (_, x) in zip(interp.get_input_details(), live):
        interp.set_tensor(detail["index"], x)
    interp.invoke()
    return interp.get_tensor(interp.get_output_details()[0]["index"])


def lsb_difference(a: np.ndarray, b: np.ndarray) -> int:
    assert a.shape == b.shape and a.dtype == b.dtype, (a.shape, a.dtype, b.shape, b.dtype)
    return int(np.max(np.abs(a.astype(np.int64) - b.astype(np.int64)), initial=0))
