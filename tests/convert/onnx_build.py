"""Small ONNX models for the importer's op tests: one node, or a few chained by name."""
from __future__ import annotations

import numpy as np
import onnx
from onnx import helper, numpy_helper

IR_VERSION = 10  # what onnxruntime reads for every opset we test (11..21)


class In:
    """A run-time graph input of the given dtype and shape (None dims are dynamic)."""

    def __init__(self, shape, dtype="float32"):
        self.shape, self.dtype = tuple(shape), dtype


def value_info(name, dtype, shape):
    elem = helper.np_dtype_to_tensor_dtype(np.dtype(dtype))
    return helper.make_tensor_value_info(name, elem, None if shape is None else
                                         [d if d is not None else f"{name}_d{i}" for i, d in enumerate(shape)])


def graph_model(nodes, inputs: dict, consts: dict, outputs, opset: int) -> onnx.ModelProto:
    """nodes: NodeProtos; inputs: name -> In; consts: name -> array (initializers); outputs: names, typed
    by ONNX shape inference, or (name, In) where inference cannot tell the shape."""
    graph = helper.make_graph(
        nodes, "test", [value_info(n, i.dtype, i.shape) for n, i in inputs.items()], [],
        initializer=[numpy_helper.from_array(np.asarray(v), n) for n, v in consts.items()])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], ir_version=IR_VERSION)
    inferred = onnx.shape_inference.infer_shapes(model, strict_mode=True, data_prop=True)
    known = {vi.name: vi for vi in (*inferred.graph.value_info, *inferred.graph.output)}
    for out in outputs:
        if isinstance(out, tuple):
            model.graph.output.append(value_info(out[0], out[1].dtype, out[1].shape))
        else:
            model.graph.output.append(known[out])
    onnx.checker.check_model(model)
    return model


def node_model(op_type: str, args: list, opset: int = 13, n_out: int = 1, **attrs) -> onnx.ModelProto:
    """One node. args: In (run-time input), an array (initializer) or None (omitted optional input)."""
    inputs, consts, names = {}, {}, []
    for i, a in enumerate(args):
        if a is None:
            names.append("")
        elif isinstance(a, In):
            inputs[f"x{i}"] = a
            names.append(f"x{i}")
        else:
            consts[f"c{i}"] = np.asarray(a)
            names.append(f"c{i}")
    while names and names[-1] == "":
        names.pop()
    outputs = [f"y{i}" for i in range(n_out)]
    node = helper.make_node(op_type, names, outputs, name=f"{op_type.lower()}_node", **attrs)
    return graph_model([node], inputs, consts, outputs, opset)


def convert(model: onnx.ModelProto, input_shapes: dict | None = None):
    """Import and run the standard passes, as `edgepress.convert.load` does for a file."""
    from edgepress.convert.onnx.importer import import_onnx
    from edgepress.convert.passes import optimize
    return optimize(import_onnx(model, input_shapes=input_shapes))


def op_types(ir_model) -> list[str]:
    return [op.type for op in ir_model.graph.ops]
