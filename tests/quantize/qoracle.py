"""Run one integer op through our quantized reference and through ai-edge-litert (its reference kernels, and
its default kernels with XNNPACK), on the same int8/int16 inputs and parameters."""
from __future__ import annotations

import numpy as np
from engines import tflite_runtime_run  # noqa: F401 (re-exported to the quantize tests)

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


def live(op: Op) -> list:
    return [t for t in op.inputs if t is not None and not t.is_constant]


def ours(op: Op, feeds: list) -> np.ndarray:
    """feeds: one array per run-time input, in input order."""
    fn = quantized_reference(op)
    assert fn is not None, f"no quantized reference for {op.type}"
    values = iter(feeds)
    args = [None if t is None else t.data if t.is_constant else next(values) for t in op.inputs]
    return np.asarray(fn(op, *args)).astype(op.outputs[0].dtype)


def litert(op: Op, feeds: list, reference_kernels: bool) -> np.ndarray:
    """TFLite's reference kernels (its builtin ones for ops that have no reference kernel registered), or
    the default kernels with XNNPACK."""
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    from edgepress.convert.tflite.writer import serialize
    data = serialize(Model(graphs=[Graph(inputs=live(op), outputs=list(op.outputs), ops=[op])]))
    resolver = OpResolverType.BUILTIN_REF if reference_kernels else OpResolverType.AUTO
    try:
        interp = Interpreter(model_content=data, num_threads=1, experimental_op_resolver_type=resolver)
    except ValueError as e:
        if "Didn't find op" not in str(e):
            raise
        interp = Interpreter(model_content=data, num_threads=1,
                             experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)
    interp.allocate_tensors()
    for detail, x in zip(interp.get_input_details(), feeds):
        interp.set_tensor(detail["index"], x)
    interp.invoke()
    return interp.get_tensor(interp.get_output_details()[0]["index"])


def lsb_difference(a: np.ndarray, b: np.ndarray) -> int:
    assert a.shape == b.shape and a.dtype == b.dtype, (a.shape, a.dtype, b.shape, b.dtype)
    return int(np.max(np.abs(a.astype(np.int64) - b.astype(np.int64)), initial=0))
