"""ONNX -> IR: load and check the model, fix input shapes, infer shapes, lower node by node."""
from __future__ import annotations

import os

import numpy as np
import onnx
from onnx import numpy_helper

from edgepress.errors import ModelFormatError, UnsupportedOpsError, UsageError

from ..ir import Graph, Model, Signature, Tensor
from .context import ImportContext
from .lower_resize import keep_legacy_resize_semantics
from .lowerings import LOWERINGS
from .patterns import fuse_patterns

MIN_OPSET, MAX_OPSET = 11, 21
ONNX_DOMAINS = ("", "ai.onnx")
# Initializers larger than this are hidden from shape inference (only their shapes matter to it), so that
# inferring shapes does not copy the weights of a large model.
SMALL_INITIALIZER = 4096


def import_onnx(source, input_shapes: dict | None = None) -> Model:
    """source: a path or an onnx.ModelProto. input_shapes: name -> shape in the model's own layout."""
    path = source if isinstance(source, (str, os.PathLike)) else "<model>"
    proto = load_proto(source)
    proto = upgrade_opset(proto, path)
    graph = proto.graph
    check_supported(graph, path)
    apply_input_shapes(graph, input_shapes or {}, path)
    value_info = infer_value_info(proto, path)

    ir_graph = Graph(name=graph.name or "main")
    ctx = ImportContext(ir_graph, value_info, opset_of(proto))
    initializer_names = set()
    for init in graph.initializer:
        ctx.values[init.name] = Tensor.constant(init.name, numpy_helper.to_array(init), sources=[init.name])
        initializer_names.add(init.name)
    for inp in graph.input:
        if inp.name in initializer_names:
            continue
        shape, dtype = value_info[inp.name]
        t = Tensor(inp.name, shape, dtype, sources=[inp.name])
        ctx.values[inp.name] = t
        ir_graph.inputs.append(t)

    constants = {name: t.data for name, t in ctx.values.items() if t.data is not None}
    fused = fuse_patterns(graph.node, constants, outputs=[o.name for o in graph.output], value_info=value_info)
    for i, node in enumerate(fused):
        ctx.node = node
        ctx.node_name = node.name or f"{node.op_type}_{i}"
        LOWERINGS[node.op_type](ctx, node)

    ir_graph.outputs = [graph_output(ctx, o.name) for o in graph.output]
    metadata = {p.key: p.value.encode() for p in proto.metadata_props}
    signature = Signature("serving_default", 0, {t.name: t for t in ir_graph.inputs},
                          {o.name: t for o, t in zip(graph.output, ir_graph.outputs)})
    return Model(graphs=[ir_graph], signatures=[signature], metadata=metadata,
                 source_path=str(path) if path != "<model>" else None)


def load_proto(source) -> onnx.ModelProto:
    if isinstance(source, onnx.ModelProto):
        return source
    path = os.fspath(source)
    if not os.path.isfile(path):
        raise ModelFormatError(path, "no such file")
    try:
        proto = onnx.load(path)
    except Exception as e:  # protobuf raises DecodeError, RuntimeWarning-derived errors, OSError...
        raise ModelFormatError(path, f"not a readable ONNX model ({type(e).__name__}: {e})") from None
    if not proto.graph.node and not proto.graph.output:
        raise ModelFormatError(path, "not a readable ONNX model (no graph)")
    try:
        onnx.checker.check_model(proto)
    except Exception as e:
        raise ModelFormatError(path, f"invalid ONNX model: {str(e).splitlines()[0]}") from None
    return proto


def opset_of(proto: onnx.ModelProto) -> int:
    return next((o.version for o in proto.opset_import if o.domain in ONNX_DOMAINS), MIN_OPSET)


def upgrade_opset(proto: onnx.ModelProto, path) -> onnx.ModelProto:
    """Models older than opset 11 are upgraded with ONNX's own version converter, so lowerings only ever
    see the opsets we support."""
    opset = opset_of(proto)
    if opset > MAX_OPSET:
        raise ModelFormatError(path, f"opset {opset} is newer than the supported {MIN_OPSET}..{MAX_OPSET}")
    if opset >= MIN_OPSET:
        return proto
    try:
        upgraded = onnx.version_converter.convert_version(proto, MIN_OPSET)
    except Exception as e:
        raise ModelFormatError(path, f"opset {opset} model could not be upgraded to opset {MIN_OPSET}: "
                                     f"{str(e).splitlines()[0]}") from None
    keep_legacy_resize_semantics(upgraded)
    return upgraded


def check_supported(graph: onnx.GraphProto, path) -> None:
    unsupported: dict[str, list[str]] = {}
    for i, node in enumerate(graph.node):
        key = node.op_type if node.domain in ONNX_DOMAINS else f"{node.domain}.{node.op_type}"
        if node.domain not in ONNX_DOMAINS or node.op_type not in LOWERINGS:
            unsupported.setdefault(key, []).append(node.name or f"{node.op_type}_{i}")
    if unsupported:
        raise UnsupportedOpsError(unsupported, source=str(path))


def apply_input_shapes(graph: onnx.GraphProto, input_shapes: dict, path) -> None:
    inputs = {i.name: i for i in graph.input}
    for name, shape in input_shapes.items():
        if name not in inputs:
            raise UsageError(f"--input-shape: model has no input '{name}' (inputs: {', '.join(inputs)})")
        dims = inputs[name].type.tensor_type.shape.dim
        if len(dims) and len(dims) != len(shape):
            raise UsageError(f"--input-shape {name}: model input has rank {len(dims)}, got {len(shape)} dims")
        for d, known in zip(dims, shape):
            if d.HasField("dim_value") and d.dim_value > 0 and d.dim_value != known:
                raise UsageError(f"--input-shape {name}: dimension {d.dim_value} is fixed by the model, got {known}")
        del inputs[name].type.tensor_type.shape.dim[:]
        for v in shape:
            inputs[name].type.tensor_type.shape.dim.add().dim_value = int(v)
    if input_shapes:
        # Shapes a tool stored for inner values (onnxruntime's quantizer does) hold the old input shapes.
        del graph.value_info[:]


def infer_value_info(proto: onnx.ModelProto, path) -> dict:
    """ONNX value name -> (shape with None for unknown dims, numpy dtype name), from ONNX shape inference
    run on a copy of the model whose large initializers are replaced by typed inputs."""
    light = onnx.ModelProto()
    light.CopyFrom(proto) if not proto.graph.initializer else _copy_without_weights(proto, light)
    try:
        inferred = onnx.shape_inference.infer_shapes(light, strict_mode=False, data_prop=True)
    except Exception as e:
        raise ModelFormatError(path, f"ONNX shape inference failed: {str(e).splitlines()[0]}") from None
    g = inferred.graph
    info = {}
    for vi in (*g.input, *g.value_info, *g.output):
        tt = vi.type.tensor_type
        if not tt.elem_type:
            continue
        shape = (tuple(d.dim_value if d.HasField("dim_value") else None for d in tt.shape.dim)
                 if tt.HasField("shape") else None)
        info[vi.name] = (shape, np.dtype(onnx.helper.tensor_dtype_to_np_dtype(tt.elem_type)).name)
    return info


def _copy_without_weights(proto: onnx.ModelProto, light: onnx.ModelProto) -> None:
    light.ir_version = proto.ir_version
    light.opset_import.extend(proto.opset_import)
    g = light.graph
    g.node.extend(proto.graph.node)
    g.input.extend(proto.graph.input)
    g.output.extend(proto.graph.output)
    g.value_info.extend(proto.graph.value_info)
    existing_inputs = {i.name for i in proto.graph.input}
    for init in proto.graph.initializer:
        if np.prod(init.dims, dtype=np.int64) <= SMALL_INITIALIZER:
            g.initializer.append(init)
        elif init.name not in existing_inputs:
            g.input.append(onnx.helper.make_tensor_value_info(init.name, init.data_type, list(init.dims)))


def graph_output(ctx: ImportContext, name: str) -> Tensor:
    """The tensor for an ONNX graph output, carrying the output's name. A graph input passed straight
    through gets a copy op so that the input keeps its own name."""
    t = ctx.values[name]
    if t in ctx.graph.inputs:
        ctx.node_name = name
        t = ctx.emit("RESHAPE", [t, ctx.const(np.array([-1 if d is None else d for d in t.shape], np.int32), hint="shape")],
                     shape=t.shape)
    if t.name != name:
        clash = next((o for o in ctx.graph.tensors() if o.name == name and o is not t), None)
        if clash is not None:
            clash.name = ctx.fresh_name(name + "_internal")
        t.name = name
    return t
