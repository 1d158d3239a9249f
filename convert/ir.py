"""The one graph IR every importer, pass and writer talks to.

Semantics are TFLite's: ops are TFLite builtin operators (by their schema name, e.g. "CONV_2D") with their
builtin options as a dict keyed by the schema's snake_case field names (enum values as their schema names,
e.g. {"padding": "SAME", "fused_activation_function": "RELU"}); image tensors are NHWC once the layout
pass has run. Tensors and ops are referenced by object, not by index; the writer assigns indices.

Every tensor and op keeps `sources`: the names of the nodes/tensors of the original model it came from,
so that reports and errors can speak the user's language.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Iterator

import numpy as np

# dtype names used in the IR are numpy's; the TFLite writer maps them to TensorType.
DTYPES = ("float32", "float16", "float64", "int8", "uint8", "int16", "uint16", "int32", "uint32", "int64",
          "bool", "string", "complex64")


@dataclass(eq=False)
class QuantParams:
    """Affine quantization real = scale * (q - zero_point); per tensor (len 1) or per axis."""
    scale: np.ndarray
    zero_point: np.ndarray
    axis: int = 0
    min: np.ndarray | None = None
    max: np.ndarray | None = None

    def __post_init__(self):
        self.scale = np.atleast_1d(np.asarray(self.scale, dtype=np.float32))
        self.zero_point = np.atleast_1d(np.asarray(self.zero_point, dtype=np.int64))

    @property
    def per_axis(self) -> bool:
        return self.scale.size > 1


@dataclass(eq=False)
class Sparsity:
    """TFLite SparsityParameters kept as data: traversal_order, block_map and per-dimension metadata.

    dim_metadata entries are dicts {"format": "DENSE"|"SPARSE_CSR", "dense_size": int,
    "array_segments": np.ndarray|None, "array_indices": np.ndarray|None}.
    """
    traversal_order: list[int]
    block_map: list[int]
    dim_metadata: list[dict]


@dataclass(eq=False)
class Tensor:
    name: str
    shape: tuple  # ints; None for a dimension unknown until run time
    dtype: str = "float32"
    data: np.ndarray | None = None  # constant value (for sparse tensors: the packed values)
    quant: QuantParams | None = None
    sparsity: Sparsity | None = None
    is_variable: bool = False
    sources: list[str] = field(default_factory=list)
    # (lo, hi): the real range a QDQ source model quantized this float tensor to (its QuantizeLinear ->
    # DequantizeLinear pair); full-integer quantization takes it instead of a calibrated range.
    qdq_range: tuple | None = None

    def __post_init__(self):
        self.shape = tuple(None if d is None or d < 0 else int(d) for d in self.shape)
        self.dtype = str(np.dtype(self.dtype)) if self.dtype not in ("string",) else self.dtype

    @classmethod
    def constant(cls, name: str, value, dtype: str | None = None, sources: Iterable[str] = ()) -> "Tensor":
        data = np.require(np.asarray(value, dtype=dtype), requirements="C")  # keeps 0-d scalars 0-d
        return cls(name, data.shape, str(data.dtype), data=data, sources=list(sources))

    @property
    def is_constant(self) -> bool:
        return self.data is not None

    @property
    def rank(self) -> int:
        return len(self.shape)

    @property
    def static(self) -> bool:
        return all(d is not None for d in self.shape)

    @property
    def nbytes(self) -> int:
        return 0 if self.data is None else int(self.data.nbytes)

    def __repr__(self):
        kind = "const " if self.is_constant else ""
        return f"<Tensor {kind}{self.name!r} {self.dtype}{list(self.shape)}>"


@dataclass(eq=False)
class Op:
    type: str  # TFLite builtin operator name, or "CUSTOM"
    inputs: list  # list[Tensor | None]; None is an omitted optional input (-1 in TFLite)
    outputs: list  # list[Tensor]
    options: dict = field(default_factory=dict)
    sources: list[str] = field(default_factory=list)
    custom_code: str | None = None
    custom_options: bytes | None = None

    def __post_init__(self):
        # Every op carries its complete builtin options so that passes, the reference evaluator and the
        # writer never disagree about a default.
        if self.type != "CUSTOM":
            from .tflite.schema import builtin_defaults
            self.options = {**builtin_defaults(self.type), **self.options}

    def __repr__(self):
        src = f" from {self.sources}" if self.sources else ""
        return f"<Op {self.type} {[t.name if t else None for t in self.inputs]} -> {[t.name for t in self.outputs]}{src}>"

    @property
    def label(self) -> str:
        """How errors and reports name this op: its source node names, else its first output."""
        return ", ".join(self.sources) if self.sources else self.outputs[0].name


@dataclass(eq=False)
class Graph:
    """A TFLite subgraph: ops in topological order between graph inputs and outputs."""
    name: str = "main"
    inputs: list = field(default_factory=list)
    outputs: list = field(default_factory=list)
    ops: list = field(default_factory=list)

    def tensors(self) -> list[Tensor]:
        """Every tensor the graph references, each once, in first-use order (deterministic)."""
        seen: dict[int, Tensor] = {}
        for t in self.inputs:
            seen.setdefault(id(t), t)
        for op in self.ops:
            for t in (*op.inputs, *op.outputs):
                if t is not None:
                    seen.setdefault(id(t), t)
        for t in self.outputs:
            seen.setdefault(id(t), t)
        return list(seen.values())

    def producers(self) -> dict[int, Op]:
        """id(tensor) -> op that writes it."""
        return {id(t): op for op in self.ops for t in op.outputs}

    def consumers(self) -> dict[int, list[Op]]:
        """id(tensor) -> ops that read it, in graph order (an op reading a tensor twice is listed once)."""
        users: dict[int, list[Op]] = {}
        for op in self.ops:
            for t in {id(t): t for t in op.inputs if t is not None}.values():
                users.setdefault(id(t), []).append(op)
        return users

    def replace_uses(self, old: Tensor, new: Tensor) -> None:
        """Make every reader of `old` (ops and graph outputs) read `new` instead."""
        for op in self.ops:
            op.inputs = [new if t is old else t for t in op.inputs]
        self.outputs = [new if t is old else t for t in self.outputs]

    def toposort(self) -> None:
        """Reorder ops so every op follows the producers of its inputs; stable for already-sorted graphs."""
        producer = self.producers()
        done: set[int] = set()
        order: list[Op] = []
        for root in self.ops:
            stack = [(root, False)]
            while stack:
                op, expanded = stack.pop()
                if id(op) in done:
                    continue
                if expanded:
                    done.add(id(op))
                    order.append(op)
                    continue
                stack.append((op, True))
                for t in reversed(op.inputs):
                    p = producer.get(id(t)) if t is not None else None
                    if p is not None and id(p) not in done:
                        stack.append((p, False))
        self.ops = order

    def unique_name(self, base: str) -> str:
        taken = {t.name for t in self.tensors()}
        if base not in taken:
            return base
        i = 1
        while f"{base}_{i}" in taken:
            i += 1
        return f"{base}_{i}"


@dataclass(eq=False)
class Signature:
    """A TFLite SignatureDef: user-facing names for a subgraph's inputs and outputs."""
    key: str
    graph_index: int
    inputs: dict  # name -> Tensor
    outputs: dict  # name -> Tensor


@dataclass(eq=False)
class Model:
    graphs: list = field(default_factory=list)
    signatures: list = field(default_factory=list)
    metadata: dict = field(default_factory=dict)  # name -> bytes (TFLite Model.metadata)
    description: str = "edgepress"
    source_path: str | None = None

    @property
    def graph(self) -> Graph:
        return self.graphs[0]

    def ops(self) -> Iterator[Op]:
        for g in self.graphs:
            yield from g.ops

    def save(self, path: str) -> int:
        """Write a standard .tflite flatbuffer atomically; returns its size in bytes."""
        from .tflite.writer import write_tflite
        return write_tflite(self, path)

    def to_bytes(self) -> bytes:
        from .tflite.writer import serialize
        return serialize(self)

    def run(self, feeds: dict, keep_intermediates: bool = False) -> dict:
        """Run the main graph with the NumPy reference evaluator."""
        from .reference import evaluate
        return evaluate(self.graph, feeds, keep_intermediates=keep_intermediates)
