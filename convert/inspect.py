"""`edgepress inspect`: what is in an .onnx or .tflite file, without converting it."""
from __future__ import annotations

import os
from collections import Counter

import numpy as np

from . import model_format
from .summary import describe_io, format_histogram, op_histogram


def describe(path: str, top: int = 10) -> str:
    if model_format(path) == "tflite":
        return describe_tflite(path, top)
    return describe_onnx(path, top)


def describe_tflite(path: str, top: int) -> str:
    from .tflite.reader import read_tflite
    model = read_tflite(path)
    constants = [t for g in model.graphs for t in g.tensors() if t.data is not None]
    lines = [f"{path}: TFLite, {os.path.getsize(path) / 1e6:.2f} MB, {len(model.graphs)} subgraph(s)",
             *describe_io(model.graph),
             f"ops ({sum(op_histogram(model).values())}): {format_histogram(op_histogram(model), 40)}",
             f"largest tensors:"]
    for t in sorted(constants, key=lambda t: (-t.nbytes, t.name))[:top]:
        lines.append(f"  {t.name}: {t.dtype}{list(t.shape)} {t.nbytes / 1e3:.1f} KB")
    if model.metadata:
        lines.append("metadata: " + ", ".join(sorted(model.metadata)))
    return "\n".join(lines)


def describe_onnx(path: str, top: int) -> str:
    from .onnx.importer import load_proto, opset_of
    proto = load_proto(path)
    g = proto.graph
    init = {i.name for i in g.initializer}

    def fmt(vi):
        tt = vi.type.tensor_type
        dims = ",".join(str(d.dim_value) if d.HasField("dim_value") else (d.dim_param or "?")
                        for d in tt.shape.dim)
        return f"  {vi.name}: {np.dtype(_np_dtype(tt.elem_type)).name}[{dims}]"

    hist = Counter(n.op_type for n in g.node)
    lines = [f"{path}: ONNX opset {opset_of(proto)}, {os.path.getsize(path) / 1e6:.2f} MB, "
             f"producer {proto.producer_name or '?'} {proto.producer_version}",
             "inputs:", *[fmt(i) for i in g.input if i.name not in init],
             "outputs:", *[fmt(o) for o in g.output],
             f"ops ({len(g.node)}): {format_histogram(hist, 40)}",
             "largest tensors:"]
    sizes = sorted(((int(np.prod(i.dims)) * np.dtype(_np_dtype(i.data_type)).itemsize, i) for i in g.initializer),
                   key=lambda x: (-x[0], x[1].name))
    for nbytes, i in sizes[:top]:
        lines.append(f"  {i.name}: {np.dtype(_np_dtype(i.data_type)).name}{list(i.dims)} {nbytes / 1e3:.1f} KB")
    if proto.metadata_props:
        lines.append("metadata: " + ", ".join(sorted(p.key for p in proto.metadata_props)))
    return "\n".join(lines)


def _np_dtype(elem_type: int):
    import onnx
    return onnx.helper.tensor_dtype_to_np_dtype(elem_type) if elem_type else np.float32
