"""What a lowering rule sees while the ONNX importer runs: values by ONNX name, attributes, and `emit`.

Lowerings emit TFLite ops but keep ONNX's layout (NCHW); ops that TFLite defines only channels-last are
wrapped in transposes by `channels_last`, and the layout pass removes the transposes afterwards. `emit`
folds an op whose inputs are all constant right away with the reference evaluator, so shape arithmetic
(Shape -> Gather -> Concat -> Reshape) becomes constants as the graph is built.
"""
from __future__ import annotations

import numpy as np
import onnx

from edgepress.errors import ConversionError

from ..ir import Graph, Op, Tensor
from ..reference import REFERENCE, evaluate_op

# Ops never folded at import: their value depends on run-time state, or folding would bloat the file.
NO_FOLD = frozenset({"TILE", "BROADCAST_TO", "FILL"})
FOLD_LIMIT = 1 << 22  # elements; a larger constant result stays an op


class ImportContext:
    def __init__(self, graph: Graph, value_info: dict, opset: int):
        self.graph = graph
        self.value_info = value_info  # ONNX name -> (shape tuple with None, numpy dtype name)
        self.opset = opset
        self.values: dict[str, Tensor] = {}
        self.node: onnx.NodeProto | None = None
        self.node_name = ""
        self._names: set[str] = set()

    # -- values ---------------------------------------------------------------------------------------
    def get(self, name: str) -> Tensor | None:
        if not name:
            return None
        if name not in self.values:
            raise ConversionError(self.node.op_type, self.node_name, f"input '{name}' is not defined")
        return self.values[name]

    def inputs(self, node=None) -> list:
        return [self.get(n) for n in (node or self.node).input]

    def input(self, i: int) -> Tensor | None:
        ins = self.node.input
        return self.get(ins[i]) if i < len(ins) else None

    def const_input(self, i: int, what: str) -> np.ndarray | None:
        """The constant value of input i (None if omitted); a clear error if it is computed at run time."""
        t = self.input(i)
        if t is None:
            return None
        if t.data is None:
            self.fail(f"{what} (input {i}, '{t.name}') must be constant; it is computed at run time")
        return t.data

    def bind(self, onnx_name: str, tensor: Tensor) -> None:
        """Make an ONNX value name refer to an existing tensor (Identity, Dropout, no-op reshapes...)."""
        self.values[onnx_name] = tensor

    def attrs(self, node=None) -> dict:
        out = {}
        for a in (node or self.node).attribute:
            v = onnx.helper.get_attribute_value(a)
            out[a.name] = v.decode() if isinstance(v, bytes) else v
        return out

    def fail(self, problem: str):
        raise ConversionError(self.node.op_type, self.node_name, problem)

    # -- tensors --------------------------------------------------------------------------------------
    def fresh_name(self, base: str) -> str:
        name, i = base, 1
        while name in self._names or name in self.values:
            name = f"{base}_{i}"
            i += 1
        self._names.add(name)
        return name

    def const(self, value, dtype=None, hint: str = "const") -> Tensor:
        t = Tensor.constant(self.fresh_name(f"{self.node_name}/{hint}"), value, dtype, sources=[self.node_name])
        return t

    def output_info(self, onnx_name: str):
        return self.value_info.get(onnx_name, (None, None))

    # -- ops ------------------------------------------------------------------------------------------
    def emit(self, op_type: str, inputs: list, options: dict | None = None, *, out=None, shape=None,
             dtype=None):
        """Add one TFLite op; returns its output tensor (or list when several).

        out: None for an internal tensor, an ONNX output name, or a list of them. shape/dtype describe an
        internal output (or override the inferred ONNX ones); lists when there are several outputs.
        """
        names = [out] if isinstance(out, str) else list(out) if out is not None else [None]
        shapes = shape if isinstance(shape, list) else [shape] * len(names)
        dtypes = dtype if isinstance(dtype, list) else [dtype] * len(names)
        default_dtype = next((t.dtype for t in inputs if t is not None), "float32")
        outputs = []
        for name, shp, dt in zip(names, shapes, dtypes):
            info_shape, info_dtype = self.output_info(name) if name else (None, None)
            tname = name if name else self.fresh_name(f"{self.node_name}/{op_type.lower()}")
            outputs.append(Tensor(tname, shp if shp is not None else (info_shape or ()),
                                  dt or info_dtype or default_dtype, sources=[name or self.node_name]))
            self._names.add(tname)
        op = Op(op_type, list(inputs), outputs, dict(options or {}), sources=[self.node_name])
        needs_shape = any(shp is None and (not name or self.output_info(name)[0] is None)
                          for name, shp in zip(names, shapes))
        if self._foldable(op) or needs_shape:
            self._fold_or_infer(op, needs_shape)
        if op.outputs[0].data is None:
            self.graph.ops.append(op)
        for name, t in zip(names, op.outputs):
            if name:
                self.values[name] = t
        return op.outputs if len(op.outputs) > 1 else op.outputs[0]

    def _foldable(self, op: Op) -> bool:
        return (op.type in REFERENCE and op.type not in NO_FOLD
                and all(t is None or t.data is not None for t in op.inputs))

    def _fold_or_infer(self, op: Op, needs_shape: bool) -> None:
        """Fold an all-constant op, or learn output shapes ONNX inference could not give by running the
        reference op on stand-in values (zeros for run-time inputs, real data for constants)."""
        if self._foldable(op):
            values = evaluate_op(op, [None if t is None else t.data for t in op.inputs])
            if all(v.size <= FOLD_LIMIT for v in values):
                for t, v in zip(op.outputs, values):
                    t.data, t.shape, t.dtype = v, v.shape, str(v.dtype)
                return
        if not needs_shape:
            return
        if any(t is not None and not t.static for t in op.inputs) or op.type not in REFERENCE:
            self.fail(f"cannot infer the shape of {op.type} output; give static input shapes with --input-shape")
        stand_ins = [None if t is None else t.data if t.data is not None else np.zeros(t.shape, t.dtype)
                     for t in op.inputs]
        for t, v in zip(op.outputs, evaluate_op(op, stand_ins)):
            t.shape = v.shape

    # -- layout helpers -------------------------------------------------------------------------------
    def transpose(self, x: Tensor, perm, out=None) -> Tensor:
        perm = [int(p) for p in perm]
        shape = tuple(x.shape[p] for p in perm)
        return self.emit("TRANSPOSE", [x, self.const(np.array(perm, np.int32), hint="perm")], out=out,
                         shape=shape)

    def channels_last(self, op_type: str, x: Tensor, extra_inputs: list, options: dict, out: str,
                      out_shape=None, first_inputs: list = ()) -> Tensor:
        """Run a channels-last-only TFLite op on a channels-first tensor: transpose in, op, transpose out.

        first_inputs go before x (TRANSPOSE_CONV takes output_shape first); out_shape is the channels-first
        output shape when ONNX inference did not provide it.
        """
        rank = x.rank
        to_last = [0, *range(2, rank), 1]
        to_first = [0, rank - 1, *range(1, rank - 1)]
        cf_shape = out_shape if out_shape is not None else self.output_info(out)[0]
        xl = self.transpose(x, to_last)
        y_shape = tuple(cf_shape[p] for p in to_last) if cf_shape else None
        y = self.emit(op_type, [*first_inputs, xl, *extra_inputs], options, shape=y_shape, dtype=x.dtype)
        return self.transpose(y, to_first, out=out)
