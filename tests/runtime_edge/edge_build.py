"""Small .tflite models built in tests with the schema's generated object API (from ai-edge-litert)."""
from dataclasses import dataclass, field

import flatbuffers
import numpy as np
from ai_edge_litert import schema_py_generated as schema

TYPES = {np.dtype(np.float32): schema.TensorType.FLOAT32, np.dtype(np.float16): schema.TensorType.FLOAT16,
         np.dtype(np.int32): schema.TensorType.INT32, np.dtype(np.int8): schema.TensorType.INT8,
         np.dtype(np.uint8): schema.TensorType.UINT8, np.dtype(np.int64): schema.TensorType.INT64}


@dataclass
class T:
    name: str
    shape: tuple
    dtype: type = np.float32
    data: np.ndarray | None = None
    signature: tuple | None = None
    scales: list | None = None
    zero_points: list | None = None
    axis: int = 0


@dataclass
class Op:
    type: str                      # builtin name, e.g. "ADD"
    inputs: list
    outputs: list
    options: object = None         # e.g. schema.AddOptionsT()
    options_type: int = 0          # schema.BuiltinOptions tag


@dataclass
class Model:
    tensors: list
    ops: list
    inputs: list
    outputs: list
    signatures: dict = field(default_factory=dict)  # key -> ({name: tensor}, {name: tensor})


def build(m: Model) -> bytes:
    model = schema.ModelT()
    model.version = 3
    model.buffers = [schema.BufferT()]
    graph = schema.SubGraphT()
    graph.tensors = []
    for t in m.tensors:
        tt = schema.TensorT()
        tt.name, tt.shape, tt.type = t.name, list(t.shape), TYPES[np.dtype(t.dtype)]
        if t.signature is not None:
            tt.shapeSignature = list(t.signature)
        tt.buffer = 0
        if t.data is not None:
            buf = schema.BufferT()
            buf.data = np.frombuffer(np.ascontiguousarray(t.data, dtype=t.dtype).tobytes(), np.uint8)
            tt.buffer = len(model.buffers)
            model.buffers.append(buf)
        if t.scales is not None:
            q = schema.QuantizationParametersT()
            q.scale, q.zeroPoint, q.quantizedDimension = list(t.scales), list(t.zero_points), t.axis
            tt.quantization = q
        graph.tensors.append(tt)
    codes = []
    graph.operators = []
    for op in m.ops:
        code = getattr(schema.BuiltinOperator, op.type)
        if code not in codes:
            codes.append(code)
        o = schema.OperatorT()
        o.opcodeIndex, o.inputs, o.outputs = codes.index(code), list(op.inputs), list(op.outputs)
        o.builtinOptionsType, o.builtinOptions = op.options_type, op.options
        graph.operators.append(o)
    model.operatorCodes = []
    for code in codes:
        oc = schema.OperatorCodeT()
        oc.builtinCode, oc.deprecatedBuiltinCode, oc.version = code, min(code, 127), 1
        model.operatorCodes.append(oc)
    graph.inputs, graph.outputs = list(m.inputs), list(m.outputs)
    model.subgraphs = [graph]
    model.signatureDefs = []
    for key, (ins, outs) in m.signatures.items():
        sig = schema.SignatureDefT()
        sig.signatureKey, sig.subgraphIndex = key, 0
        sig.inputs = [_tensor_map(n, i) for n, i in ins.items()]
        sig.outputs = [_tensor_map(n, i) for n, i in outs.items()]
        model.signatureDefs.append(sig)
    builder = flatbuffers.Builder(1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


def _tensor_map(name, index):
    tm = schema.TensorMapT()
    tm.name, tm.tensorIndex = name, index
    return tm


def add_options(activation=0):
    opts = schema.AddOptionsT()
    opts.fusedActivationFunction = activation
    return dict(options=opts, options_type=schema.BuiltinOptions.AddOptions)
