"""ONNX shape, indexing and constant ops through the importer: onnxruntime vs ai-edge-litert vs our
reference evaluator, and shape arithmetic folded to constants at import."""
import numpy as np
import pytest
from onnx import TensorProto, helper, numpy_helper

from edgepress.convert.onnx.importer import import_onnx
from edgepress.errors import ConversionError
from onnx_build import IR_VERSION, In, convert, graph_model, node_model, op_types, value_info
from onnx_harness import check_onnx_model

RNG = np.random.default_rng(5)
I64 = np.int64
INT64_MAX = np.iinfo(np.int64).max


@pytest.mark.parametrize("shape,spec,allowzero", [
    ((2, 3, 4), [6, 4], 0), ((2, 3, 4), [0, -1], 0), ((2, 3, 4), [-1], 0), ((2, 3, 4), [2, 0, 2, 2], 0),
    ((2, 3, 4), [4, 3, 2], 1), ((1, 6), [2, 3, 1], 0), ((2, 3, 4), [1, 1, 24, 1, 1, 1], 0)])
def test_reshape(shape, spec, allowzero):
    attrs = {"allowzero": allowzero} if allowzero else {}
    ir = check_onnx_model(node_model("Reshape", [In(shape), np.array(spec, I64)], opset=14 if allowzero else 13,
                                     **attrs))
    assert op_types(ir) == ["RESHAPE"]


def test_reshape_dynamic_batch():
    model = node_model("Reshape", [In((None, 3, 4)), np.array([0, -1], I64)])
    ir = check_onnx_model(model, {"x0": RNG.standard_normal((2, 3, 4)).astype(np.float32)},
                          input_shapes={"x0": [2, 3, 4]})
    assert ir.graph.outputs[0].shape == (2, 12)


def test_reshape_runtime_shape_is_an_error():
    graph = helper.make_graph([helper.make_node("Reshape", ["x", "s"], ["y"])], "g",
                              [value_info("x", "float32", (None, 4)), value_info("s", "int64", (2,))],
                              [value_info("y", "float32", (None, None))])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], ir_version=IR_VERSION)
    with pytest.raises(ConversionError, match="run time"):
        import_onnx(model)


@pytest.mark.parametrize("axis", [0, 1, 2, 3, -1])
def test_flatten(axis):
    check_onnx_model(node_model("Flatten", [In((2, 3, 4, 5))], axis=axis))


@pytest.mark.parametrize("opset", [11, 13, 21])
@pytest.mark.parametrize("shape,axes", [((1, 3, 1, 5), [0]), ((1, 3, 1, 5), [-2, 0]), ((1, 3, 1, 5), None)])
def test_squeeze(opset, shape, axes):
    args, attrs = [In(shape)], {}
    if axes is not None and opset < 13:
        attrs["axes"] = axes
    elif axes is not None:
        args.append(np.array(axes, I64))
    check_onnx_model(node_model("Squeeze", args, opset=opset, **attrs))


@pytest.mark.parametrize("opset", [11, 13, 21])
@pytest.mark.parametrize("shape,axes", [((3, 5), [0]), ((3, 5), [-1, 1]), ((3,), [0, 2, 3]), ((), [0])])
def test_unsqueeze(opset, shape, axes):
    args, attrs = [In(shape)], {}
    if opset < 13:
        attrs["axes"] = axes
    else:
        args.append(np.array(axes, I64))
    check_onnx_model(node_model("Unsqueeze", args, opset=opset, **attrs))


def test_squeeze_unsqueeze_with_dynamic_dims():
    """Two unknown dims: SQUEEZE / EXPAND_DIMS rather than RESHAPE."""
    nodes = [helper.make_node("Squeeze", ["x", "a"], ["s"]), helper.make_node("Unsqueeze", ["s", "b"], ["y"])]
    model = graph_model(nodes, {"x": In((None, 1, None))}, {"a": np.array([1], I64), "b": np.array([0, 3], I64)},
                        ["y"], 13)
    ir = convert(model)
    assert op_types(ir) == ["SQUEEZE", "EXPAND_DIMS", "EXPAND_DIMS"]
    x = RNG.standard_normal((2, 1, 3)).astype(np.float32)
    assert ir.run({"x": x})["y"].shape == (1, 2, 3, 1)


@pytest.mark.parametrize("perm", [None, [0, 2, 3, 1], [3, 1, 0, 2]])
def test_transpose(perm):
    attrs = {} if perm is None else {"perm": perm}
    check_onnx_model(node_model("Transpose", [In((2, 3, 4, 5))], **attrs))


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_concat(axis):
    shapes = [(2, 3, 4)] * 3
    shapes[1] = tuple(d + 2 if i == axis % 3 else d for i, d in enumerate(shapes[1]))
    args = [In(shapes[0]), In(shapes[1]), RNG.standard_normal(shapes[2]).astype(np.float32)]
    check_onnx_model(node_model("Concat", args, axis=axis))


@pytest.mark.parametrize("opset,axis,split,n", [
    (11, 1, None, 3), (11, -1, [1, 3, 2], 3), (13, 0, None, 2), (13, 2, [4, 2], 2), (18, 1, None, 2),
    (18, 2, None, 4)])
def test_split(opset, axis, split, n):
    args, attrs = [In((4, 6, 6))], {"axis": axis}
    if split is not None and opset < 13:
        attrs["split"] = split
    elif split is not None:
        args.append(np.array(split, I64))
    if opset >= 18 and split is None:
        attrs["num_outputs"] = n
    check_onnx_model(node_model("Split", args, opset=opset, n_out=n, **attrs))


def test_split_opset18_uneven():
    """7 into 3: ceil(7/3) = 3, 3, then the remaining 1."""
    ir = check_onnx_model(node_model("Split", [In((2, 7))], opset=18, n_out=3, axis=1, num_outputs=3))
    assert [t.shape for t in ir.graph.outputs] == [(2, 3), (2, 3), (2, 1)]


SLICES = [
    ([1], [3], [1], None),
    ([0, 1], [2, -1], [0, 2], None),
    ([-3], [INT64_MAX], [-1], None),
    ([0], [10], [2], [2]),
    ([-1], [-INT64_MAX], [1], [-1]),
    ([4, 5], [0, 1], [1, 2], [-1, -2]),
    ([2, 0, 1], [-1, INT64_MAX, 5], [0, 1, 3], [1, 3, 2]),
    ([-100], [100], [3], None),
    ([5], [2], [3], None),
]


@pytest.mark.parametrize("starts,ends,axes,steps", SLICES)
def test_slice(starts, ends, axes, steps):
    args = [In((3, 6, 5, 7)), np.array(starts, I64), np.array(ends, I64), np.array(axes, I64)]
    if steps is not None:
        args.append(np.array(steps, I64))
    check_onnx_model(node_model("Slice", args))


def test_slice_without_axes_and_with_stride_one_is_slice():
    ir = check_onnx_model(node_model("Slice", [In((3, 6)), np.array([1, 2], I64), np.array([3, INT64_MAX], I64)]))
    assert op_types(ir) == ["SLICE"]


def test_slice_dynamic_axis():
    model = node_model("Slice", [In((2, None)), np.array([1], I64), np.array([-1], I64), np.array([1], I64)])
    ir = convert(model)
    x = RNG.standard_normal((2, 9)).astype(np.float32)
    np.testing.assert_array_equal(ir.run({"x0": x})["y0"], x[:, 1:-1])


@pytest.mark.parametrize("axis,indices", [(0, np.array([2, 0], I64)), (1, np.array([-1, 0, 1], I64)),
                                          (1, np.array(-2, I64)), (2, np.array([[0, 3], [-1, 1]], I64)),
                                          (-1, np.array(3, np.int32))])
def test_gather_constant_indices(axis, indices):
    ir = check_onnx_model(node_model("Gather", [In((3, 4, 5)), indices], axis=axis))
    assert op_types(ir) == ["GATHER"]


@pytest.mark.parametrize("dtype", ["int64", "int32"])
def test_gather_runtime_indices_with_negatives(dtype):
    table = RNG.standard_normal((10, 4)).astype(np.float32)
    model = node_model("Gather", [table, In((2, 3), dtype)], axis=0)
    check_onnx_model(model, {"x1": np.array([[0, -1, 3], [9, -10, 2]], dtype)})


@pytest.mark.parametrize("opset", [11, 13, 18])
@pytest.mark.parametrize("mode,pads,value", [
    ("constant", [0, 0, 1, 2, 0, 0, 3, 1], None), ("constant", [0, 1, 1, 0, 0, 1, 0, 2], 1.5),
    ("reflect", [0, 0, 2, 1, 0, 0, 1, 2], None), ("edge", [0, 0, 2, 1, 0, 0, 1, 3], None),
    ("constant", [0, 0, -1, 2, 0, 0, 1, -2], None)])
def test_pad(opset, mode, pads, value):
    args = [In((1, 2, 4, 5)), np.array(pads, I64)]
    if value is not None:
        args.append(np.float32(value))
    check_onnx_model(node_model("Pad", args, opset=opset, mode=mode))


def test_pad_axes_and_wrap():
    check_onnx_model(node_model("Pad", [In((2, 3, 4)), np.array([1, 2, 2, 1], I64), None, np.array([2, -2], I64)],
                                opset=18, mode="constant"))
    check_onnx_model(node_model("Pad", [In((2, 3, 4)), np.array([0, 1, 2, 0, 2, 1], I64)], opset=19, mode="wrap"))


@pytest.mark.parametrize("x_shape,shape", [((3, 1), [2, 3, 4]), ((1, 4), [3, 1]), ((2, 3), [2, 3]),
                                           ((1, 3, 1, 1), [2, 1, 4, 5])])
def test_expand(x_shape, shape):
    check_onnx_model(node_model("Expand", [In(x_shape), np.array(shape, I64)]))


def test_tile():
    ir = check_onnx_model(node_model("Tile", [In((2, 3, 1)), np.array([1, 2, 3], I64)]))
    assert op_types(ir) == ["TILE"]


def shape_chain_model(x_shape, opset=13):
    """y = Reshape(x, [Shape(x)[0], Shape(x)[1] * Shape(x)[2], -1]) by way of Gather/Unsqueeze/Mul/Concat."""
    def unsqueeze(src, dst):
        if opset >= 13:
            return helper.make_node("Unsqueeze", [src, "zero_axis"], [dst])
        return helper.make_node("Unsqueeze", [src], [dst], axes=[0])
    nodes = [helper.make_node("Shape", ["x"], ["s"]),
             helper.make_node("Gather", ["s", "i0"], ["d0"], axis=0),
             helper.make_node("Gather", ["s", "i1"], ["d1"], axis=0),
             helper.make_node("Gather", ["s", "i2"], ["d2"], axis=0),
             helper.make_node("Mul", ["d1", "d2"], ["d12"]),
             unsqueeze("d0", "u0"), unsqueeze("d12", "u12"),
             helper.make_node("Concat", ["u0", "u12", "minus1"], ["target"], axis=0),
             helper.make_node("Reshape", ["x", "target"], ["r"]),
             helper.make_node("Relu", ["r"], ["y"])]
    consts = {"i0": np.array(0, I64), "i1": np.array(1, I64), "i2": np.array(2, I64),
              "zero_axis": np.array([0], I64), "minus1": np.array([-1], I64)}
    y_shape = (x_shape[0], None if None in x_shape[1:3] else x_shape[1] * x_shape[2], x_shape[3])
    return graph_model(nodes, {"x": In(x_shape)}, consts, [("y", In(y_shape))], opset)


@pytest.mark.parametrize("opset", [11, 13])
def test_shape_arithmetic_folds_to_constants(opset):
    ir = check_onnx_model(shape_chain_model((2, 3, 4, 5), opset))
    assert op_types(ir) == ["RESHAPE", "RELU"]
    assert ir.graph.outputs[0].shape == (2, 12, 5)


def test_shape_arithmetic_folds_with_input_shapes_given():
    ir = check_onnx_model(shape_chain_model((None, 3, None, 5)), input_shapes={"x": [2, 3, 4, 5]})
    assert "SHAPE" not in op_types(ir)


def test_shape_of_partly_dynamic_input_folds_known_dims():
    """Shape(x)[1] is 3 even when dims 0 and 2 are unknown: no SHAPE op is needed for it."""
    nodes = [helper.make_node("Shape", ["x"], ["s"]), helper.make_node("Gather", ["s", "i"], ["d"], axis=0),
             helper.make_node("Cast", ["d"], ["f"], to=TensorProto.FLOAT),
             helper.make_node("Mul", ["x", "f"], ["y"])]
    model = graph_model(nodes, {"x": In((None, 3, None))}, {"i": np.array(1, I64)}, ["y"], 13)
    ir = convert(model)
    assert op_types(ir) == ["MUL"]
    x = RNG.standard_normal((2, 3, 4)).astype(np.float32)
    np.testing.assert_allclose(ir.run({"x": x})["y"], 3 * x)


@pytest.mark.parametrize("start,end", [(None, None), (1, None), (-2, None), (0, -1), (1, 3)])
def test_shape_start_end(start, end):
    attrs = {k: v for k, v in (("start", start), ("end", end)) if v is not None}
    nodes = [helper.make_node("Shape", ["x"], ["s"], **attrs), helper.make_node("Cast", ["s"], ["f"], to=TensorProto.FLOAT),
             helper.make_node("Add", ["v", "f"], ["y"])]
    n = len(range(4)[slice(start, end)])
    ir = check_onnx_model(graph_model(nodes, {"x": In((2, 3, 4, 5)), "v": In((n,))}, {}, ["y"], 15))
    assert op_types(ir) == ["ADD"]


def test_dynamic_shape_becomes_a_shape_op():
    nodes = [helper.make_node("Shape", ["x"], ["s"], start=1), helper.make_node("Cast", ["s"], ["y"], to=TensorProto.FLOAT)]
    ir = convert(graph_model(nodes, {"x": In((2, None, 4))}, {}, ["y"], 15))
    assert "SHAPE" in op_types(ir)
    np.testing.assert_array_equal(ir.run({"x": np.zeros((2, 7, 4), np.float32)})["y"], [7, 4])


def test_size_and_constant_of_shape():
    nodes = [helper.make_node("Size", ["x"], ["n"]), helper.make_node("Unsqueeze", ["n", "ax"], ["dims"]),
             helper.make_node("ConstantOfShape", ["dims"], ["c"],
                              value=numpy_helper.from_array(np.array([0.5], np.float32))),
             helper.make_node("Reshape", ["x", "flat"], ["xf"]), helper.make_node("Add", ["xf", "c"], ["y"])]
    consts = {"ax": np.array([0], I64), "flat": np.array([-1], I64)}
    ir = check_onnx_model(graph_model(nodes, {"x": In((2, 3))}, consts, ["y"], 13))
    assert op_types(ir) == ["RESHAPE", "ADD"]


@pytest.mark.parametrize("attr,value", [
    ("value", numpy_helper.from_array(np.arange(6, dtype=np.float32).reshape(2, 3))),
    ("value_float", 2.5), ("value_floats", [1.0, 2.0, 3.0]), ("value_int", 3), ("value_ints", [1, 2, 3]),
    ("sparse_value", helper.make_sparse_tensor(numpy_helper.from_array(np.array([4.0, 5.0], np.float32)),
                                               numpy_helper.from_array(np.array([1, 4], I64)), [2, 3]))])
def test_constant(attr, value):
    node = helper.make_node("Constant", [], ["c"], **{attr: value})
    probe = graph_model([node], {}, {}, ["c"], 13)
    dtype = {1: "float32", 7: "int64"}[probe.graph.output[0].type.tensor_type.elem_type]
    shape = [d.dim_value for d in probe.graph.output[0].type.tensor_type.shape.dim]
    model = graph_model([node, helper.make_node("Add", ["x", "c"], ["y"])], {"x": In(shape, dtype)}, {}, ["y"], 13)
    ir = check_onnx_model(model)
    assert op_types(ir) == ["ADD"]


@pytest.mark.parametrize("src,dst", [("float32", TensorProto.INT32), ("float32", TensorProto.INT64),
                                     ("int64", TensorProto.FLOAT), ("float32", TensorProto.BOOL),
                                     ("int32", TensorProto.INT64), ("bool", TensorProto.FLOAT),
                                     ("float32", TensorProto.FLOAT)])
def test_cast(src, dst):
    x = {"float32": (RNG.standard_normal((3, 4)) * 5).astype(np.float32),
         "int64": RNG.integers(-100, 100, (3, 4)), "int32": RNG.integers(-100, 100, (3, 4)).astype(np.int32),
         "bool": RNG.random((3, 4)) > 0.5}[src]
    x[0, 0] = 0  # zero is the one value that casts to false
    model = graph_model([helper.make_node("Cast", ["x"], ["c"], to=dst), helper.make_node("Identity", ["c"], ["y"])],
                        {"x": In((3, 4), src)}, {}, ["y"], 13)
    check_onnx_model(model, {"x": x})


@pytest.mark.parametrize("start,limit,delta,dtype", [(0, 10, 3, "int64"), (10, 0, -2, "int32"),
                                                     (0.5, 3.0, 0.25, "float32")])
def test_range(start, limit, delta, dtype):
    n = len(np.arange(start, limit, delta))
    consts = {"a": np.array(start, dtype), "b": np.array(limit, dtype), "d": np.array(delta, dtype)}
    nodes = [helper.make_node("Range", ["a", "b", "d"], ["r"]), helper.make_node("Add", ["x", "r"], ["y"])]
    ir = check_onnx_model(graph_model(nodes, {"x": In((n,), dtype)}, consts, ["y"], 13))
    assert op_types(ir) == ["ADD"]


def test_range_runtime():
    model = graph_model([helper.make_node("Range", ["a", "b", "d"], ["y"])],
                        {"a": In((), "int32"), "b": In((), "int32")}, {"d": np.array(2, np.int32)}, ["y"], 13)
    ir = convert(model)
    np.testing.assert_array_equal(ir.run({"a": np.int32(1), "b": np.int32(8)})["y"], [1, 3, 5, 7])


def test_slice_of_partly_dynamic_shape_folds_known_dims():
    """x.shape[1:] is constant when only dim 0 is unknown."""
    nodes = [helper.make_node("Shape", ["x"], ["s"]),
             helper.make_node("Slice", ["s", "b", "e"], ["tail"]),
             helper.make_node("Concat", ["minus1", "tail"], ["target"], axis=0),
             helper.make_node("Reshape", ["x", "target"], ["y"])]
    consts = {"b": np.array([1], I64), "e": np.array([INT64_MAX], I64), "minus1": np.array([-1], I64)}
    model = graph_model(nodes, {"x": In((None, 3, 4))}, consts, [("y", In((None, 3, 4)))], 13)
    ir = convert(model)
    assert op_types(ir) == ["RESHAPE"]
    x = RNG.standard_normal((5, 3, 4)).astype(np.float32)
    np.testing.assert_array_equal(ir.run({"x": x})["y"], x)


def test_cast_like():
    model = node_model("CastLike", [In((3, 4)), np.zeros(1, np.int32)], opset=15)
    check_onnx_model(model, {"x0": (RNG.standard_normal((3, 4)) * 5).astype(np.float32)})
