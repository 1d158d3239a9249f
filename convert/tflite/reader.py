""".tflite flatbuffer -> IR Model.

Constant data are numpy views into one writable copy of the file (no per-tensor copies; a buffer shared by
several tensors is copied for all but its first user, so that an in-place edit of one constant cannot change
another). Builtin options are read through schema.py, so every op carries complete options.

A file is untrusted input: every count and index is checked against the file before it is used, and any
failure to parse (flatbuffers raises IndexError/struct.error on offsets past the end) becomes one
ModelFormatError naming the file and the problem.
"""
from __future__ import annotations

import os
import struct

import numpy as np
import tflite as fb

from edgepress.errors import EdgepressError, ModelFormatError

from ..ir import Graph, Model, Op, QuantParams, Signature, Sparsity, Tensor
from . import schema
from .strings import decode_strings

SCHEMA_VERSION = 3
DIMENSION_FORMATS = {0: "DENSE", 1: "SPARSE_CSR"}
INDEX_VECTORS = {1: (fb.Int32Vector, "int32"), 2: (fb.Uint16Vector, "uint16"), 3: (fb.Uint8Vector, "uint8")}
PARSE_ERRORS = (IndexError, struct.error, ValueError, TypeError, OverflowError, AttributeError, UnicodeDecodeError,
                EdgepressError)


class Corrupt(Exception):
    """A structural problem found while reading; becomes a ModelFormatError with the file's name."""


class Reader:
    def __init__(self, buf: bytearray):
        self.buf = buf
        self.size = len(buf)
        self.buffer_users: dict[int, int] = {}

    # -- bounds ------------------------------------------------------------------------------------------

    def count(self, n: int, what: str, elem_size: int = 4) -> int:
        """A vector length, refused when the file is too small to hold that many elements."""
        if n < 0 or n * elem_size > self.size:
            raise Corrupt(f"{what}: {n} entries cannot fit in a {self.size}-byte file")
        return n

    def index(self, i: int, n: int, what: str) -> int:
        if not 0 <= i < n:
            raise Corrupt(f"{what} {i} is out of range (0..{n - 1})")
        return i

    @staticmethod
    def ints(values) -> list:
        """A generated XAsNumpy() result (0 when the vector is absent) as a list of ints."""
        return [] if isinstance(values, int) else values.tolist()

    @staticmethod
    def text(raw) -> str:
        return "" if raw is None else raw.decode("utf-8")

    # -- buffers -----------------------------------------------------------------------------------------

    def buffer_span(self, model, b: int) -> tuple[int, int]:
        """(start, length) of a buffer's bytes in the file; inline data or, past 2 GB, offset/size."""
        buffer = model.Buffers(b)
        if buffer.Offset() > 1:
            start, length = buffer.Offset(), buffer.Size()
        else:
            length = buffer.DataLength()
            start = buffer._tab.Vector(buffer._tab.Offset(4)) if length else 0
        if start + length > self.size:
            raise Corrupt(f"buffer {b} ({length} bytes at {start}) runs past the end of the file")
        return start, length

    def constant(self, model, b: int, name: str, dtype: str, shape: tuple, sparse: bool):
        start, length = self.buffer_span(model, b)
        if not length:
            return None
        if dtype == "string":
            return decode_strings(bytes(self.buf[start:start + length]), shape)
        item = np.dtype(dtype).newbyteorder("<")
        if length % item.itemsize:
            raise Corrupt(f"tensor '{name}': buffer of {length} bytes is not a whole number of {dtype}")
        n = length // item.itemsize
        if not sparse and (None in shape or n != int(np.prod(shape, dtype=np.int64))):
            raise Corrupt(f"tensor '{name}': buffer holds {n} {dtype} values, shape {list(shape)} needs "
                          f"{'an unknown number' if None in shape else int(np.prod(shape, dtype=np.int64))}")
        data = np.frombuffer(self.buf, dtype=item, count=n, offset=start).astype(dtype, copy=False)
        data = data if sparse else data.reshape(shape)
        self.buffer_users[b] = self.buffer_users.get(b, 0) + 1
        return data.copy() if self.buffer_users[b] > 1 else data

    # -- tensors -----------------------------------------------------------------------------------------

    def quant(self, t) -> QuantParams | None:
        q = t.Quantization()
        if q is None:
            return None
        scale = np.array(q.ScaleAsNumpy() if q.ScaleLength() else [], np.float32)
        zero = np.array(q.ZeroPointAsNumpy() if q.ZeroPointLength() else [], np.int64)
        qmin = np.array(q.MinAsNumpy(), np.float32) if q.MinLength() else None
        qmax = np.array(q.MaxAsNumpy(), np.float32) if q.MaxLength() else None
        if not scale.size and qmin is None and qmax is None:
            return None
        if zero.size not in (0, 1, scale.size):
            raise Corrupt(f"tensor '{self.text(t.Name())}': {scale.size} scales but {zero.size} zero points")
        if scale.size and not zero.size:
            zero = np.zeros(scale.size, np.int64)
        return QuantParams(scale, zero, axis=q.QuantizedDimension(), min=qmin, max=qmax)

    def index_vector(self, kind: int, table, what: str):
        if kind not in INDEX_VECTORS or table is None:
            raise Corrupt(f"{what}: sparse index vector of unknown type {kind}")
        cls, dtype = INDEX_VECTORS[kind]
        vec = cls()
        vec.Init(table.Bytes, table.Pos)
        return np.array(vec.ValuesAsNumpy() if vec.ValuesLength() else [], dtype=dtype)

    def sparsity(self, t, name: str) -> Sparsity | None:
        s = t.Sparsity()
        if s is None:
            return None
        dims = []
        for k in range(self.count(s.DimMetadataLength(), f"tensor '{name}' sparsity")):
            d = s.DimMetadata(k)
            fmt = DIMENSION_FORMATS.get(d.Format())
            if fmt is None:
                raise Corrupt(f"tensor '{name}': unknown sparse dimension format {d.Format()}")
            meta = {"format": fmt, "dense_size": d.DenseSize(), "array_segments": None, "array_indices": None}
            if fmt == "SPARSE_CSR":
                meta["array_segments"] = self.index_vector(d.ArraySegmentsType(), d.ArraySegments(), name)
                meta["array_indices"] = self.index_vector(d.ArrayIndicesType(), d.ArrayIndices(), name)
            dims.append(meta)
        return Sparsity(self.ints(s.TraversalOrderAsNumpy()), self.ints(s.BlockMapAsNumpy()), dims)

    def tensor(self, model, t, n_buffers: int) -> Tensor:
        name = self.text(t.Name())
        dtype = schema.dtype_of(t.Type())
        shape = self.ints(t.ShapeAsNumpy())
        signature = self.ints(t.ShapeSignatureAsNumpy())
        if len(signature) == len(shape):
            shape = [None if s == -1 else d for d, s in zip(shape, signature)]
        shape = tuple(shape)
        sparsity = self.sparsity(t, name)
        b = self.index(t.Buffer(), n_buffers, f"tensor '{name}': buffer")
        data = self.constant(model, b, name, dtype, shape, sparsity is not None) if b else None
        out = Tensor(name, shape, dtype, data=data, quant=self.quant(t), sparsity=sparsity,
                     is_variable=bool(t.IsVariable()), sources=[name])
        return out

    # -- operators ---------------------------------------------------------------------------------------

    def custom_options(self, op) -> bytes | None:
        if op.LargeCustomOptionsSize():
            start, length = op.LargeCustomOptionsOffset(), op.LargeCustomOptionsSize()
            if start + length > self.size:
                raise Corrupt(f"custom options ({length} bytes at {start}) run past the end of the file")
            return bytes(self.buf[start:start + length])
        return op.CustomOptionsAsNumpy().tobytes() if op.CustomOptionsLength() else None

    def operator(self, op, codes: list, tensors: list, where: str) -> Op:
        op_type, custom_code = codes[self.index(op.OpcodeIndex(), len(codes), f"{where}: operator code")]

        def pick(i):
            return None if i == -1 else tensors[self.index(i, len(tensors), f"{where} ({op_type}): tensor")]
        inputs = [pick(i) for i in self.ints(op.InputsAsNumpy())]
        outputs = [tensors[self.index(i, len(tensors), f"{where} ({op_type}): tensor")]
                   for i in self.ints(op.OutputsAsNumpy())]
        sources = [outputs[0].name] if outputs else []
        if op_type == "CUSTOM":
            return Op("CUSTOM", inputs, outputs, sources=sources, custom_code=custom_code,
                      custom_options=self.custom_options(op))
        table = schema.table_for(op_type)
        if table is not None and table.union == 2:
            union_type, union_table = op.BuiltinOptions2Type(), op.BuiltinOptions2()
        else:
            union_type, union_table = op.BuiltinOptionsType(), op.BuiltinOptions()
        try:
            options = schema.read_options(op_type, union_type, union_table)
        except EdgepressError as e:
            raise Corrupt(f"{where}: {e}") from None
        return Op(op_type, inputs, outputs, options, sources=sources)

    def operator_codes(self, model) -> list:
        codes = []
        for i in range(self.count(model.OperatorCodesLength(), "operator codes")):
            oc = model.OperatorCodes(i)
            # Files from before builtin_code existed only set the int8 deprecated field.
            code = max(oc.BuiltinCode(), oc.DeprecatedBuiltinCode())
            if code not in schema.OPERATOR_NAMES:
                raise Corrupt(f"operator code {i}: unknown builtin operator {code}")
            custom = self.text(oc.CustomCode()) if oc.CustomCode() is not None else None
            codes.append((schema.OPERATOR_NAMES[code], custom))
        return codes

    # -- graphs ------------------------------------------------------------------------------------------

    @staticmethod
    def empty_constants(graph: Graph) -> None:
        """TFLite cannot store a zero-size constant (an empty buffer means "no data"): a zero-element tensor
        that nothing produces and that is not a graph input is one."""
        produced = {id(t) for op in graph.ops for t in op.outputs} | {id(t) for t in graph.inputs}
        for op in graph.ops:
            for t in op.inputs:
                if (t is not None and t.data is None and not t.is_variable and id(t) not in produced
                        and t.static and 0 in t.shape):
                    t.data = np.zeros(t.shape, dtype=object if t.dtype == "string" else t.dtype)

    def graph(self, model, gi: int, codes: list) -> tuple[Graph, list]:
        g = model.Subgraphs(gi)
        n_buffers = model.BuffersLength()
        tensors = [self.tensor(model, g.Tensors(i), n_buffers)
                   for i in range(self.count(g.TensorsLength(), f"subgraph {gi} tensors"))]
        ops = [self.operator(g.Operators(i), codes, tensors, f"subgraph {gi} operator {i}")
               for i in range(self.count(g.OperatorsLength(), f"subgraph {gi} operators"))]
        ios = [[tensors[self.index(i, len(tensors), f"subgraph {gi} {kind}")] for i in self.ints(v)]
               for kind, v in (("input", g.InputsAsNumpy()), ("output", g.OutputsAsNumpy()))]
        name = self.text(g.Name()) or ("main" if gi == 0 else f"subgraph_{gi}")
        graph = Graph(name=name, inputs=ios[0], outputs=ios[1], ops=ops)
        self.empty_constants(graph)
        return graph, tensors

    def signatures(self, model, tensors_of: list) -> list:
        out = []
        for i in range(self.count(model.SignatureDefsLength(), "signature defs")):
            s = model.SignatureDefs(i)
            key = self.text(s.SignatureKey())
            gi = self.index(s.SubgraphIndex(), len(tensors_of), f"signature '{key}': subgraph")
            tensors = tensors_of[gi]

            def maps(n, get):
                return {self.text(get(j).Name()): tensors[self.index(get(j).TensorIndex(), len(tensors),
                                                                     f"signature '{key}': tensor")]
                        for j in range(self.count(n, f"signature '{key}' tensors"))}
            out.append(Signature(key, gi, maps(s.InputsLength(), s.Inputs), maps(s.OutputsLength(), s.Outputs)))
        return out

    def metadata(self, model) -> dict:
        n_buffers = model.BuffersLength()
        out = {}
        for i in range(self.count(model.MetadataLength(), "metadata")):
            m = model.Metadata(i)
            name = self.text(m.Name())
            start, length = self.buffer_span(model, self.index(m.Buffer(), n_buffers, f"metadata '{name}': buffer"))
            out[name] = bytes(self.buf[start:start + length])
        return out

    def model(self, source_path: str | None) -> Model:
        if self.size < 8:
            raise Corrupt(f"{self.size} bytes is too small for a TFLite model")
        if self.buf[4:8] != b"TFL3":
            raise Corrupt(f"not a TFLite flatbuffer (file identifier {bytes(self.buf[4:8])!r}, expected b'TFL3')")
        root = struct.unpack_from("<I", self.buf, 0)[0]
        if root + 4 > self.size:
            raise Corrupt(f"root table offset {root} is past the end of the file")
        model = fb.Model.GetRootAs(self.buf, 0)
        if model.Version() != SCHEMA_VERSION:
            raise Corrupt(f"schema version {model.Version()}, expected {SCHEMA_VERSION}")
        self.count(model.BuffersLength(), "buffers")
        n_graphs = self.count(model.SubgraphsLength(), "subgraphs")
        if not n_graphs:
            raise Corrupt("the model has no subgraphs")
        codes = self.operator_codes(model)
        graphs, tensors_of = zip(*(self.graph(model, gi, codes) for gi in range(n_graphs)))
        return Model(graphs=list(graphs), signatures=self.signatures(model, list(tensors_of)),
                     metadata=self.metadata(model), description=self.text(model.Description()),
                     source_path=source_path)


def _load(source) -> tuple[bytearray, str, str | None]:
    if isinstance(source, (bytes, bytearray, memoryview)):
        return bytearray(source), "<bytes>", None
    path = os.fspath(source)
    try:
        with open(path, "rb") as f:
            buf = bytearray(os.fstat(f.fileno()).st_size)
            f.readinto(buf)
    except OSError as e:
        raise ModelFormatError(path, e.strerror or str(e)) from None
    return buf, path, path


def read_tflite(source) -> Model:
    """Read a .tflite file (path) or its bytes into the IR. Raises ModelFormatError for anything that is not
    a well-formed TFLite model."""
    buf, label, path = _load(source)
    try:
        return Reader(buf).model(path)
    except Corrupt as e:
        raise ModelFormatError(label, str(e)) from None
    except PARSE_ERRORS as e:
        raise ModelFormatError(label, f"corrupt TFLite flatbuffer ({type(e).__name__}: {e})") from None
