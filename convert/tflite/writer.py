"""IR Model -> standard .tflite flatbuffer (schema version 3, identifier TFL3).

Layout decisions:
- buffer 0 is the empty buffer every non-constant tensor points at; constant data is 16-byte aligned so
  runtimes can use weights in place, and identical constants share one buffer;
- tensors are numbered per graph in Graph.tensors() order, buffers and operator codes in first-use order,
  metadata by name, so identical models give identical bytes;
- identical shapes, quantization parameters (tables and their vectors) and builtin options tables are
  written once and referenced by every tensor or operator that repeats them: a flatbuffer offset may point
  at a shared object, and quantized models of thin layers spend much of their bytes on such repeats;
- large models: data is copied once, straight from the numpy arrays into a pre-sized builder, and files
  are written from the builder's memory.
"""
from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass, field

import flatbuffers
import numpy as np
import tflite as fb

import edgepress
from edgepress.errors import EdgepressError
from edgepress.files import atomic_write

from ..ir import Signature
from . import schema, versions
from .strings import encode_strings

SCHEMA_VERSION = 3
FILE_IDENTIFIER = b"TFL3"
DATA_ALIGNMENT = 16
PRODUCER_KEY = "producer"
MIN_RUNTIME_KEY = "min_runtime_version"
DEFAULT_SIGNATURE = "serving_default"
INLINE_LIMIT = 2**31 - 2**27  # constant bytes kept inside the flatbuffer (2 GB less room for the tables)
CUSTOM = schema.OPERATORS["CUSTOM"]
# SparseIndexVector members by the index dtype they hold.
INDEX_VECTORS = {"int32": (1, "Int32Vector"), "uint16": (2, "Uint16Vector"), "uint8": (3, "Uint8Vector")}


@dataclass
class Plan:
    """Indices the flatbuffer needs, fixed before anything is written."""
    tensors: list = field(default_factory=list)  # per graph: list[Tensor]
    index: list = field(default_factory=list)  # per graph: id(tensor) -> index
    buffer_of: dict = field(default_factory=dict)  # id(tensor) -> buffer index
    buffers: list = field(default_factory=list)  # raw bytes (memoryview) per buffer, [0] empty
    opcodes: list = field(default_factory=list)  # (builtin code, custom code, version)
    opcode_of: dict = field(default_factory=dict)  # id(op) -> opcode index
    metadata: list = field(default_factory=list)  # (name, buffer index)
    n_constant_buffers: int = 1  # buffers [1, n) hold constants, the rest metadata


# -- planning -------------------------------------------------------------------------------------------

def _constant_bytes(t) -> memoryview:
    """A constant's little-endian bytes, without copying where the array allows."""
    if t.dtype == "string":
        return memoryview(encode_strings(t.data))
    data = np.asarray(t.data)
    if str(data.dtype) != t.dtype:
        raise EdgepressError(f"tensor '{t.name}': data is {data.dtype} but the tensor is {t.dtype}")
    if t.sparsity is None and (not t.static or data.size != int(np.prod(t.shape, dtype=np.int64))):
        raise EdgepressError(f"tensor '{t.name}': data of shape {data.shape} does not fit shape {list(t.shape)}")
    if data.dtype.byteorder == ">":
        data = data.astype(data.dtype.newbyteorder("<"))
    return memoryview(np.ascontiguousarray(data).reshape(-1).view(np.uint8))


def _sample(raw: memoryview) -> bytes:
    """Size plus a few spans of the bytes: tells most different buffers apart without reading them whole."""
    n = raw.nbytes
    spans = [raw[max(0, at - 32):at + 32].tobytes() for at in (0, n // 3, n // 2, 2 * n // 3, n - 32)]
    return n.to_bytes(8, "little") + b"".join(spans)


def _share_buffers(raws: list) -> list:
    """Index of the first identical buffer for each raw buffer (itself if none). Only buffers whose size and
    samples collide are hashed whole, so large distinct weights cost almost nothing."""
    groups = defaultdict(list)
    for i, raw in enumerate(raws):
        groups[_sample(raw)].append(i)
    first = list(range(len(raws)))
    for group in groups.values():
        if len(group) < 2:
            continue
        seen = {}
        for i in group:
            first[i] = seen.setdefault(hashlib.blake2b(raws[i], digest_size=32).digest(), i)
    return first


def _operator_code(op) -> tuple:
    if op.type == "CUSTOM":
        if not op.custom_code:
            raise EdgepressError(f"CUSTOM op '{op.label}' has no custom_code")
        return CUSTOM, op.custom_code, 1
    return schema.operator_code(op.type), None, versions.operator_version(op)


def _signatures(model) -> list:
    if model.signatures:
        return model.signatures
    g = model.graph
    for kind, ts in (("input", g.inputs), ("output", g.outputs)):
        names = [t.name for t in ts]
        if len(set(names)) != len(names):
            raise EdgepressError(f"graph '{g.name}': {kind} names must be unique for the default signature: {names}")
    return [Signature(DEFAULT_SIGNATURE, 0, {t.name: t for t in g.inputs}, {t.name: t for t in g.outputs})]


def _metadata(model, opcodes) -> list:
    runtime = versions.min_runtime_version((schema.OPERATOR_NAMES[c], v) for c, _, v in opcodes if c != CUSTOM)
    entries = {name: value.encode() if isinstance(value, str) else bytes(value)
               for name, value in model.metadata.items()}
    # TFLite reserves a 16-byte zero-padded buffer for the version string.
    entries[MIN_RUNTIME_KEY] = runtime.encode().ljust(16, b"\0")
    entries[PRODUCER_KEY] = f"edgepress {edgepress.__version__}".encode()
    return sorted(entries.items())


def plan(model) -> Plan:
    p = Plan()
    constants, seen = [], set()
    for g in model.graphs:
        ts = g.tensors()
        p.tensors.append(ts)
        p.index.append({id(t): i for i, t in enumerate(ts)})
        for t in ts:
            if t.is_constant and id(t) not in seen:
                seen.add(id(t))
                constants.append(t)
    raws = [_constant_bytes(t) for t in constants]
    # A zero-size constant keeps buffer 0: TFLite reads an empty buffer as "not constant" anyway.
    filled = [(t, raw) for t, raw in zip(constants, raws) if raw.nbytes]
    first = _share_buffers([raw for _, raw in filled])
    p.buffers = [memoryview(b"")]
    slot = {}
    for (t, raw), j in zip(filled, first):
        if j not in slot:
            slot[j] = len(p.buffers)
            p.buffers.append(raw)
        p.buffer_of[id(t)] = slot[j]
    p.n_constant_buffers = len(p.buffers)
    codes = {}
    for g in model.graphs:
        for op in g.ops:
            key = _operator_code(op)
            p.opcode_of[id(op)] = codes.setdefault(key, len(codes))
    p.opcodes = list(codes)
    for name, value in _metadata(model, p.opcodes):
        p.metadata.append((name, len(p.buffers)))
        p.buffers.append(memoryview(value))
    return p


# -- building -------------------------------------------------------------------------------------------

def _offsets_vector(builder, offsets: list) -> int:
    builder.StartVector(4, len(offsets), 4)
    for off in reversed(offsets):
        builder.PrependUOffsetTRelative(off)
    return builder.EndVector()


def _ints(builder, values, dtype="int32") -> int:
    return builder.CreateNumpyVector(np.asarray(list(values), dtype=dtype).reshape(-1))


def _data_vector(builder, raw: memoryview) -> int:
    """A [ubyte] vector whose first byte is DATA_ALIGNMENT-aligned in the finished file."""
    n = raw.nbytes
    builder.StartVector(1, n, DATA_ALIGNMENT)
    builder.head = builder.Head() - n
    builder.Bytes[builder.Head():builder.Head() + n] = raw
    return builder.EndVector()


def _buffers(builder, p: Plan, external: list | None) -> int:
    """The buffers vector; with `external` (file offsets of constant data stored after the flatbuffer, for
    models past flatbuffers' 2 GB), constant buffers hold offset/size instead of data."""
    inline = [external is None or i >= p.n_constant_buffers for i in range(len(p.buffers))]
    data = [_data_vector(builder, raw) if raw.nbytes and keep else None for raw, keep in zip(p.buffers, inline)]
    tables = []
    for i, raw in enumerate(p.buffers):
        fb.BufferStart(builder)
        if data[i] is not None:
            fb.BufferAddData(builder, data[i])
        elif raw.nbytes:
            fb.BufferAddOffset(builder, external[i])
            fb.BufferAddSize(builder, raw.nbytes)
        tables.append(fb.BufferEnd(builder))
    return _offsets_vector(builder, tables)


def _shared_ints(builder, shared: dict, values, dtype: str) -> int:
    """Like _ints, but identical vectors (shapes, per-channel zero points) are stored once."""
    array = np.ascontiguousarray(values, dtype=dtype).reshape(-1)
    key = ("vector", dtype, array.tobytes())
    if key not in shared:
        shared[key] = builder.CreateNumpyVector(array)
    return shared[key]


def _bytes_or_none(values) -> bytes | None:
    return None if values is None else np.asarray(values, np.float32).tobytes()


def _quantization(builder, q, shared: dict) -> int | None:
    """The QuantizationParameters table of `q`, written once per distinct value."""
    if q is None or (not q.scale.size and q.min is None and q.max is None):
        return None
    key = ("quantization", np.asarray(q.scale, np.float32).tobytes(),
           np.broadcast_to(np.asarray(q.zero_point, np.int64), q.scale.shape).tobytes(),
           _bytes_or_none(q.min), _bytes_or_none(q.max), int(q.axis))
    if key not in shared:
        shared[key] = _quantization_table(builder, q, shared)
    return shared[key]


def _quantization_table(builder, q, shared: dict) -> int:
    scale = zero = qmin = qmax = None
    if q.scale.size:
        scale = _shared_ints(builder, shared, q.scale, "float32")
        zero = _shared_ints(builder, shared, np.broadcast_to(q.zero_point, q.scale.shape), "int64")
    if q.min is not None:
        qmin = _ints(builder, np.atleast_1d(q.min), "float32")
    if q.max is not None:
        qmax = _ints(builder, np.atleast_1d(q.max), "float32")
    fb.QuantizationParametersStart(builder)
    for add, off in ((fb.QuantizationParametersAddMin, qmin), (fb.QuantizationParametersAddMax, qmax),
                     (fb.QuantizationParametersAddScale, scale), (fb.QuantizationParametersAddZeroPoint, zero)):
        if off is not None:
            add(builder, off)
    fb.QuantizationParametersAddQuantizedDimension(builder, int(q.axis))
    return fb.QuantizationParametersEnd(builder)


def _index_vector(builder, values) -> tuple[int, int]:
    """(SparseIndexVector type, table) keeping the index dtype when it is one the schema has."""
    values = np.asarray(values)
    dtype = str(values.dtype)
    if dtype not in INDEX_VECTORS:
        top = int(values.max(initial=0))
        dtype = "uint8" if top < 2**8 else "uint16" if top < 2**16 else "int32"
    code, name = INDEX_VECTORS[dtype]
    vec = _ints(builder, values, dtype)
    getattr(fb, f"{name}Start")(builder)
    getattr(fb, f"{name}AddValues")(builder, vec)
    return code, getattr(fb, f"{name}End")(builder)


def _dim_metadata(builder, meta: dict) -> int:
    sparse = meta["format"] == "SPARSE_CSR"
    if sparse:
        seg_type, segments = _index_vector(builder, meta["array_segments"])
        idx_type, indices = _index_vector(builder, meta["array_indices"])
    fb.DimensionMetadataStart(builder)
    fb.DimensionMetadataAddFormat(builder, 1 if sparse else 0)
    fb.DimensionMetadataAddDenseSize(builder, int(meta.get("dense_size") or 0))
    if sparse:
        fb.DimensionMetadataAddArraySegmentsType(builder, seg_type)
        fb.DimensionMetadataAddArraySegments(builder, segments)
        fb.DimensionMetadataAddArrayIndicesType(builder, idx_type)
        fb.DimensionMetadataAddArrayIndices(builder, indices)
    return fb.DimensionMetadataEnd(builder)


def _sparsity(builder, sp) -> int | None:
    if sp is None:
        return None
    order = _ints(builder, sp.traversal_order)
    block_map = _ints(builder, sp.block_map) if len(sp.block_map) else None
    dims = _offsets_vector(builder, [_dim_metadata(builder, m) for m in sp.dim_metadata])
    fb.SparsityParametersStart(builder)
    fb.SparsityParametersAddTraversalOrder(builder, order)
    if block_map is not None:
        fb.SparsityParametersAddBlockMap(builder, block_map)
    fb.SparsityParametersAddDimMetadata(builder, dims)
    return fb.SparsityParametersEnd(builder)


def _tensor(builder, t, buffer: int, shared: dict) -> int:
    name = builder.CreateString(t.name)
    shape = _shared_ints(builder, shared, [1 if d is None else d for d in t.shape], "int32")
    signature = None if t.static else _shared_ints(builder, shared, [-1 if d is None else d for d in t.shape], "int32")
    quant = _quantization(builder, t.quant, shared)
    sparsity = _sparsity(builder, t.sparsity)
    fb.TensorStart(builder)
    fb.TensorAddShape(builder, shape)
    fb.TensorAddType(builder, schema.tensor_type(t.dtype))
    fb.TensorAddBuffer(builder, buffer)
    fb.TensorAddName(builder, name)
    if quant is not None:
        fb.TensorAddQuantization(builder, quant)
    fb.TensorAddIsVariable(builder, bool(t.is_variable))
    if sparsity is not None:
        fb.TensorAddSparsity(builder, sparsity)
    if signature is not None:
        fb.TensorAddShapeSignature(builder, signature)
    return fb.TensorEnd(builder)


def _frozen(value):
    """A hashable, type-preserving stand-in for an option value."""
    if isinstance(value, np.ndarray):
        return ("ndarray", str(value.dtype), value.shape, value.tobytes())
    if isinstance(value, (list, tuple)):
        return (type(value).__name__, tuple(_frozen(v) for v in value))
    return (type(value).__name__, value)


def _options(builder, op, shared: dict) -> tuple[int, int, int]:
    """schema.write_options, once per distinct (op type, options)."""
    key = ("options", op.type, tuple(sorted((k, _frozen(v)) for k, v in op.options.items())))
    if key not in shared:
        try:
            shared[key] = schema.write_options(builder, op.type, op.options)
        except EdgepressError as e:
            raise EdgepressError(f"op '{op.label}': {e}") from None
    return shared[key]


def _operator(builder, op, index: dict, opcode: int, shared: dict) -> int:
    def idx(t):
        if t is None:
            return -1
        if id(t) not in index:
            raise EdgepressError(f"{op.type} op '{op.label}': tensor '{t.name}' is not part of its graph")
        return index[id(t)]
    inputs = _ints(builder, [idx(t) for t in op.inputs])
    outputs = _ints(builder, [idx(t) for t in op.outputs])
    custom = None
    union, opt_type, opt = 1, 0, 0
    if op.type == "CUSTOM":
        if op.custom_options:
            custom = _ints(builder, np.frombuffer(op.custom_options, np.uint8), "uint8")
    else:
        union, opt_type, opt = _options(builder, op, shared)
    fb.OperatorStart(builder)
    fb.OperatorAddOpcodeIndex(builder, opcode)
    fb.OperatorAddInputs(builder, inputs)
    fb.OperatorAddOutputs(builder, outputs)
    if opt_type:
        (fb.OperatorAddBuiltinOptionsType if union == 1 else fb.OperatorAddBuiltinOptions2Type)(builder, opt_type)
        (fb.OperatorAddBuiltinOptions if union == 1 else fb.OperatorAddBuiltinOptions2)(builder, opt)
    if custom is not None:
        fb.OperatorAddCustomOptions(builder, custom)
    return fb.OperatorEnd(builder)


def _subgraph(builder, g, p: Plan, gi: int, shared: dict) -> int:
    index = p.index[gi]
    tensors = _offsets_vector(builder, [_tensor(builder, t, p.buffer_of.get(id(t), 0), shared) for t in p.tensors[gi]])
    ops = _offsets_vector(builder, [_operator(builder, op, index, p.opcode_of[id(op)], shared) for op in g.ops])
    inputs = _ints(builder, [index[id(t)] for t in g.inputs])
    outputs = _ints(builder, [index[id(t)] for t in g.outputs])
    name = builder.CreateString(g.name)
    fb.SubGraphStart(builder)
    fb.SubGraphAddTensors(builder, tensors)
    fb.SubGraphAddInputs(builder, inputs)
    fb.SubGraphAddOutputs(builder, outputs)
    fb.SubGraphAddOperators(builder, ops)
    fb.SubGraphAddName(builder, name)
    return fb.SubGraphEnd(builder)


def _operator_codes(builder, p: Plan) -> int:
    tables = []
    for code, custom_code, version in p.opcodes:
        custom = builder.CreateString(custom_code) if custom_code is not None else None
        fb.OperatorCodeStart(builder)
        # Readers before schema 3a only know the int8 field; codes past 127 go in builtin_code alone.
        fb.OperatorCodeAddDeprecatedBuiltinCode(builder, min(code, 127))
        if custom is not None:
            fb.OperatorCodeAddCustomCode(builder, custom)
        fb.OperatorCodeAddVersion(builder, version)
        fb.OperatorCodeAddBuiltinCode(builder, code)
        tables.append(fb.OperatorCodeEnd(builder))
    return _offsets_vector(builder, tables)


def _tensor_maps(builder, named: dict, index: dict, key: str) -> int:
    maps = []
    for name, t in named.items():
        if id(t) not in index:
            raise EdgepressError(f"signature '{key}': tensor '{t.name}' ({name}) is not in its graph")
        s = builder.CreateString(name)
        fb.TensorMapStart(builder)
        fb.TensorMapAddName(builder, s)
        fb.TensorMapAddTensorIndex(builder, index[id(t)])
        maps.append(fb.TensorMapEnd(builder))
    return _offsets_vector(builder, maps)


def _signature_defs(builder, model, p: Plan) -> int:
    defs = []
    for sig in _signatures(model):
        if not 0 <= sig.graph_index < len(model.graphs):
            raise EdgepressError(f"signature '{sig.key}': no graph {sig.graph_index}")
        index = p.index[sig.graph_index]
        inputs = _tensor_maps(builder, sig.inputs, index, sig.key)
        outputs = _tensor_maps(builder, sig.outputs, index, sig.key)
        key = builder.CreateString(sig.key)
        fb.SignatureDefStart(builder)
        fb.SignatureDefAddInputs(builder, inputs)
        fb.SignatureDefAddOutputs(builder, outputs)
        fb.SignatureDefAddSignatureKey(builder, key)
        fb.SignatureDefAddSubgraphIndex(builder, sig.graph_index)
        defs.append(fb.SignatureDefEnd(builder))
    return _offsets_vector(builder, defs)


def _metadata_tables(builder, p: Plan) -> int:
    tables = []
    for name, buffer in p.metadata:
        s = builder.CreateString(name)
        fb.MetadataStart(builder)
        fb.MetadataAddName(builder, s)
        fb.MetadataAddBuffer(builder, buffer)
        tables.append(fb.MetadataEnd(builder))
    return _offsets_vector(builder, tables)


def _size_estimate(model, p: Plan, external: bool) -> int:
    data = sum(raw.nbytes + DATA_ALIGNMENT + 8 for i, raw in enumerate(p.buffers)
               if not external or i >= p.n_constant_buffers)
    tensors = sum(160 + len(t.name.encode()) + 8 * t.rank + (0 if t.quant is None else 16 * t.quant.scale.size)
                  for ts in p.tensors for t in ts)
    ops = sum(192 + 4 * (len(op.inputs) + len(op.outputs)) + len(op.custom_options or b"") for op in model.ops())
    return data + tensors + ops + 4096


def _flatbuffer(model, p: Plan, external: list | None) -> memoryview:
    builder = flatbuffers.Builder(_size_estimate(model, p, external is not None))
    # Created first, the constant data lands at the end of the flatbuffer, after every table.
    buffers = _buffers(builder, p, external)
    shared: dict = {}  # key -> offset of an object written once and referenced wherever it repeats
    subgraphs = _offsets_vector(builder, [_subgraph(builder, g, p, i, shared) for i, g in enumerate(model.graphs)])
    opcodes = _operator_codes(builder, p)
    signatures = _signature_defs(builder, model, p)
    metadata = _metadata_tables(builder, p)
    description = builder.CreateString(model.description or "")
    fb.ModelStart(builder)
    fb.ModelAddVersion(builder, SCHEMA_VERSION)
    fb.ModelAddOperatorCodes(builder, opcodes)
    fb.ModelAddSubgraphs(builder, subgraphs)
    fb.ModelAddDescription(builder, description)
    fb.ModelAddBuffers(builder, buffers)
    fb.ModelAddMetadata(builder, metadata)
    fb.ModelAddSignatureDefs(builder, signatures)
    builder.Finish(fb.ModelEnd(builder), file_identifier=FILE_IDENTIFIER)
    return memoryview(builder.Bytes)[builder.Head():]


def _align(n: int) -> int:
    return -(-n // DATA_ALIGNMENT) * DATA_ALIGNMENT


def build(model, external: bool | None = None) -> list:
    """The file as a list of chunks (memoryviews and padding) to concatenate.

    Constant data goes inside the flatbuffer unless it would pass flatbuffers' 2 GB limit (or `external`
    is set): then it follows the flatbuffer, each buffer aligned, and Buffer.offset/size point at it."""
    if not model.graphs:
        raise EdgepressError("model has no graphs")
    p = plan(model)
    constants = p.buffers[1:p.n_constant_buffers]
    if external is None:
        external = sum(raw.nbytes for raw in constants) > INLINE_LIMIT
    if not external:
        return [_flatbuffer(model, p, None)]
    # offset/size are uint64 fields written whatever their value, so the flatbuffer's size does not depend
    # on them: one pass with placeholders measures it, the second writes the real offsets.
    size = _flatbuffer(model, p, [2] * p.n_constant_buffers).nbytes
    offsets, chunks, end = [0], [], _align(size)
    for raw in constants:
        offsets.append(end)
        end = _align(end + raw.nbytes)
    head = _flatbuffer(model, p, offsets)
    assert head.nbytes == size, "flatbuffer size changed between passes"
    chunks, at = [head], size
    for offset, raw in zip(offsets[1:], constants):
        chunks += [bytes(offset - at), raw]
        at = offset + raw.nbytes
    return chunks


def serialize(model, external: bool | None = None) -> bytes:
    """The .tflite bytes of a model."""
    chunks = build(model, external)
    return bytes(chunks[0]) if len(chunks) == 1 else b"".join(chunks)


def write_tflite(model, path, external: bool | None = None) -> int:
    """Write a model atomically; returns its size in bytes. Nothing is created when serialization fails."""
    chunks = build(model, external)
    with atomic_write(path) as f:
        for chunk in chunks:
            f.write(chunk)
    return sum(len(c) if isinstance(c, bytes) else c.nbytes for c in chunks)
