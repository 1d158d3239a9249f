"""One-op .tflite models for kernel tests: build, run in edgepress.runtime_edge and in ai-edge-litert, compare.

Models are built with the schema's object API that ships with ai-edge-litert (the oracle is a test
dependency already), so a kernel test does not depend on the converter's writer. Output shapes are taken
from ai-edge-litert itself: the model is built once with placeholder output shapes, litert computes the real
ones, and the model is rebuilt with them, so both runtimes see a fully consistent file.

The oracles are TFLite's reference kernels (BUILTIN_REF: the arithmetic of the TFLite and quantization
specifications, matched exactly for integers) and its optimized builtin kernels without the XNNPACK
delegate (BUILTIN_WITHOUT_DEFAULT_DELEGATES, what a default TFLite build runs; within 1 LSB for integers).

Tolerances: float32 outputs must satisfy |ours - ref| <= 1e-5 * |ref| + 1e-5 * max|ref| elementwise
(summation order differs between blocked and reference loops); integer outputs must match within ``lsb``.
"""
from __future__ import annotations

from dataclasses import dataclass

import flatbuffers
import numpy as np
from ai_edge_litert import schema_py_generated as S

from edgepress.convert.tflite.schema import OPTIONS_TABLE

RTOL = 1e-5

# Option fields whose values are schema enums, so tests can write {"padding": "SAME"}.
ENUM_FIELDS = {"padding": S.Padding, "fused_activation_function": S.ActivationFunctionType,
               "mode": S.MirrorPadMode, "in_data_type": S.TensorType, "out_data_type": S.TensorType,
               "output_type": S.TensorType, "out_type": S.TensorType}

TENSOR_TYPES = {"float32": S.TensorType.FLOAT32, "float16": S.TensorType.FLOAT16, "int32": S.TensorType.INT32,
                "uint8": S.TensorType.UINT8, "int64": S.TensorType.INT64, "bool": S.TensorType.BOOL,
                "int16": S.TensorType.INT16, "int8": S.TensorType.INT8}


@dataclass
class Spec:
    """One tensor of a one-op model: a graph input (data None) or a constant."""
    shape: tuple
    dtype: str = "float32"
    data: np.ndarray | None = None
    scale: float | list | None = None
    zero_point: int | list = 0
    axis: int = 0
    sparsity: object = None  # S.SparsityParametersT for a sparse constant (data holds the packed values)


def inp(shape, dtype="float32", scale=None, zero_point=0):
    return Spec(tuple(shape), dtype, None, scale, zero_point)


def const(value, dtype=None, scale=None, zero_point=0, axis=0):
    data = np.ascontiguousarray(value, dtype=dtype)
    return Spec(data.shape, str(data.dtype), data, scale, zero_point, axis)


def out(dtype="float32", scale=None, zero_point=0, shape=(1,)):
    """An output; the placeholder shape is replaced by litert's, but ops that check their output's rank
    before resizing it (SLICE) need a placeholder of the right rank."""
    return Spec(tuple(shape), dtype, None, scale, zero_point)


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(w[:1].upper() + w[1:] for w in rest)


def _options(op: str, options: dict):
    table = OPTIONS_TABLE.get(op)
    if table is None:
        assert not options, f"no options table known for {op}"
        return S.BuiltinOptions.NONE, None
    obj = getattr(S, table + "T")()
    for key, value in options.items():
        enum = ENUM_FIELDS.get(key)
        if isinstance(value, str) and enum is not None:
            value = getattr(enum, value)
        attr = _camel(key)
        assert hasattr(obj, attr), f"{table} has no field {key}"
        setattr(obj, attr, value)
    return getattr(S.BuiltinOptions, table), obj


def _tensor(spec: Spec, name: str, buffer: int):
    t = S.TensorT()
    t.shape = list(spec.shape)
    t.type = TENSOR_TYPES[spec.dtype]
    t.buffer = buffer
    t.name = name
    if spec.scale is not None:
        q = S.QuantizationParametersT()
        q.scale = [float(s) for s in np.atleast_1d(spec.scale)]
        q.zeroPoint = [int(z) for z in np.atleast_1d(spec.zero_point)]
        if len(q.zeroPoint) == 1 and len(q.scale) > 1:
            q.zeroPoint = q.zeroPoint * len(q.scale)
        q.quantizedDimension = spec.axis
        t.quantization = q
    t.sparsity = spec.sparsity
    return t


def build(op: str, inputs: list, outputs: list, options: dict | None = None, version: int = 1) -> bytes:
    """Serialize a model with one builtin op; `inputs` may hold None for omitted optional inputs."""
    code = getattr(S.BuiltinOperator, op)
    opcode = S.OperatorCodeT()
    opcode.builtinCode = code
    opcode.deprecatedBuiltinCode = min(code, 127)
    opcode.version = version
    buffers = [S.BufferT()]
    tensors, op_inputs, graph_inputs = [], [], []
    for i, spec in enumerate(inputs):
        if spec is None:
            op_inputs.append(-1)
            continue
        buffer = 0
        if spec.data is not None:
            b = S.BufferT()
            b.data = np.frombuffer(np.ascontiguousarray(spec.data).tobytes(), np.uint8)
            buffers.append(b)
            buffer = len(buffers) - 1
        else:
            graph_inputs.append(len(tensors))
        op_inputs.append(len(tensors))
        tensors.append(_tensor(spec, f"in{i}", buffer))
    op_outputs = []
    for i, spec in enumerate(outputs):
        op_outputs.append(len(tensors))
        tensors.append(_tensor(spec, f"out{i}", 0))
    operator = S.OperatorT()
    operator.opcodeIndex = 0
    operator.inputs = op_inputs
    operator.outputs = op_outputs
    operator.builtinOptionsType, operator.builtinOptions = _options(op, options or {})
    graph = S.SubGraphT()
    graph.tensors = tensors
    graph.inputs = graph_inputs
    graph.outputs = op_outputs
    graph.operators = [operator]
    graph.name = "main"
    model = S.ModelT()
    model.version = 3
    model.operatorCodes = [opcode]
    model.subgraphs = [graph]
    model.buffers = buffers
    model.description = "edgepress kernel test"
    builder = flatbuffers.Builder(1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


def litert_run(model: bytes, feeds: list, resolver: str = "builtin") -> list:
    from ai_edge_litert.interpreter import Interpreter, OpResolverType
    kind = {"builtin": OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES, "ref": OpResolverType.BUILTIN_REF}
    interp = Interpreter(model_content=model, num_threads=1, experimental_op_resolver_type=kind[resolver])
    interp.allocate_tensors()
    for detail, value in zip(interp.get_input_details(), feeds):
        interp.set_tensor(detail["index"], value)
    interp.invoke()
    return [interp.get_tensor(d["index"]).copy() for d in interp.get_output_details()]


def edge_run(model: bytes, feeds: list, num_threads: int = 1) -> list:
    from edgepress.runtime_edge import Interpreter
    interp = Interpreter(model_content=model, num_threads=num_threads)
    interp.allocate_tensors()
    for detail, value in zip(interp.get_input_details(), feeds):
        interp.set_tensor(detail["index"], value)
    interp.invoke()
    return [interp.get_tensor(d["index"]).copy() for d in interp.get_output_details()]


def finalize(op, inputs, outputs, options=None, version=1, feeds=None, resolver="builtin"):
    """The model with real output shapes, and the oracle's outputs for `feeds`."""
    draft = build(op, inputs, outputs, options, version)
    ref = litert_run(draft, feeds, resolver)
    shaped = [Spec(r.shape, o.dtype, None, o.scale, o.zero_point, o.axis) for o, r in zip(outputs, ref)]
    return build(op, inputs, shaped, options, version), ref


def assert_close(ours, ref, lsb=0, label=""):
    assert ours.shape == ref.shape, f"{label}: shape {ours.shape} != {ref.shape}"
    assert ours.dtype == ref.dtype, f"{label}: dtype {ours.dtype} != {ref.dtype}"
    if ref.dtype.kind == "f":
        finite = np.isfinite(ref)
        np.testing.assert_array_equal(ours[~finite], ref[~finite], err_msg=f"{label}: non-finite values")
        scale = float(np.max(np.abs(ref[finite]))) if finite.any() else 0.0
        np.testing.assert_allclose(ours[finite], ref[finite], rtol=RTOL, atol=RTOL * scale, err_msg=label)
    elif ref.dtype == np.bool_:
        np.testing.assert_array_equal(ours, ref, err_msg=label)
    else:
        diff = np.abs(ours.astype(np.int64) - ref.astype(np.int64))
        worst = int(diff.max()) if diff.size else 0
        assert worst <= lsb, f"{label}: max diff {worst} LSB > {lsb} ({int((diff > lsb).sum())} values)"


def check(op, inputs, outputs, feeds, options=None, version=1, lsb=0, threads=(1, 2), builtin_lsb=1):
    """Run the one-op model in both runtimes on `feeds` and compare every output: against TFLite's reference
    kernels within `lsb`, and against its optimized builtin kernels within `builtin_lsb` (their integer
    GEMM rounds differently in rare ties); returns the reference outputs."""
    try:
        model, ref = finalize(op, inputs, outputs, options, version, feeds, "ref")
    except ValueError as e:  # a few ops (ELU) have no reference kernel: the builtin one is the oracle
        assert "Didn't find op" in str(e), e
        model, ref = finalize(op, inputs, outputs, options, version, feeds, "builtin")
    fast = litert_run(model, feeds, "builtin")
    for n in threads:
        ours = edge_run(model, feeds, n)
        assert len(ours) == len(ref)
        for i, (a, b, c) in enumerate(zip(ours, ref, fast)):
            assert_close(a, b, lsb, f"{op} output {i} threads={n} vs reference kernels")
            assert_close(a, c, builtin_lsb, f"{op} output {i} threads={n} vs builtin kernels")
    return ref


def rand(rng, shape, dtype="float32", low=-1.0, high=1.0):
    """Seeded test data: uniform floats, or integers over the dtype's full range for int8/int16."""
    if dtype == "float32":
        return rng.uniform(low, high, size=shape).astype(np.float32)
    if dtype in ("int8", "int16", "uint8"):
        info = np.iinfo(dtype)
        return rng.integers(info.min, info.max + 1, size=shape, dtype=np.int64).astype(dtype)
    if dtype in ("int32", "int64"):
        return rng.integers(int(low), int(high) + 1, size=shape).astype(dtype)
    if dtype == "bool":
        return rng.random(size=shape) < 0.5
    raise ValueError(dtype)
