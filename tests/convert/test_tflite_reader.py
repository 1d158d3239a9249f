"""The .tflite reader: IR -> bytes -> IR keeps every feature the IR has (graphs, tensors, constants,
quantization, sparsity, options of both unions, custom ops, signatures, metadata); every options table
round-trips through schema.py's reflection; corrupt, truncated and foreign files raise ModelFormatError
naming the file, never anything else."""
from __future__ import annotations

import struct

import numpy as np
import onnx
import pytest
import tflite

from edgepress.convert.ir import Graph, Model, Op, QuantParams, Signature, Sparsity, Tensor
from edgepress.convert.tflite import schema
from edgepress.convert.tflite.reader import read_tflite
from edgepress.convert.tflite.writer import serialize
from edgepress.errors import ModelFormatError


def rich_model() -> Model:
    """One of everything the IR can say, in two graphs."""
    r = np.random.default_rng(0)
    x = Tensor("x", (None, 4, 4, 3))
    wq = Tensor.constant("w_int8", r.integers(-127, 128, (2, 1, 1, 3)).astype(np.int8))
    wq.quant = QuantParams([0.5, 0.25], [0, 0], axis=0)
    w, c = Tensor("w", (2, 1, 1, 3)), Tensor("conv", (None, 4, 4, 2))
    flat, act = Tensor("flat", (None, 32)), Tensor("act", (None, 32))
    xq = Tensor("xq", (1, 4), "int8")
    xq.quant = QuantParams(0.1, -3, min=np.float32(-12.5), max=np.float32(13.0))
    cast = Tensor("cast", (1, 4), "int32")
    half = Tensor.constant("half", r.standard_normal((1, 4)).astype(np.float16))
    deq = Tensor("deq", (1, 4))
    dense = np.array([[0, 1.5, 0, 0], [2.5, 0, 0, -1]], np.float32)
    sparse = Tensor("sparse", (2, 4), data=np.array([1.5, 2.5, -1], np.float32))
    sparse.sparsity = Sparsity([0, 1], [], [
        {"format": "DENSE", "dense_size": 2, "array_segments": None, "array_indices": None},
        {"format": "SPARSE_CSR", "dense_size": 0, "array_segments": np.array([0, 1, 3], np.int32),
         "array_indices": np.array([1, 0, 3], np.uint8)}])
    densified = Tensor("densified", (2, 4))
    words = Tensor.constant("words", np.array([b"edge", "press".encode(), b""], dtype=object))
    words.dtype = "string"
    state = Tensor("state", (2,), "int64", is_variable=True)
    flags = Tensor.constant("flags", np.array([True, False]))
    empty = Tensor.constant("empty", np.zeros((0, 4), np.float32))
    joined, custom_out = Tensor("joined", (2, 4)), Tensor("custom_out", (3,), "int64")
    padded = Tensor("padded", (4, 6))
    ops = [
        Op("DEQUANTIZE", [wq], [w]),
        Op("CONV_2D", [x, w, None], [c], {"padding": "VALID", "stride_w": 1, "stride_h": 1,
                                          "fused_activation_function": "RELU6", "dilation_h_factor": 2}),
        Op("RESHAPE", [c], [flat], {"new_shape": [-1, 32]}),
        Op("LEAKY_RELU", [flat], [act], {"alpha": 0.2}, sources=["/model/act"]),
        Op("CAST", [xq], [cast], {"in_data_type": "INT8", "out_data_type": "INT32"}),
        Op("DEQUANTIZE", [half], [deq]),
        Op("DENSIFY", [sparse], [densified]),
        Op("CONCATENATION", [densified, empty], [joined], {"axis": 0}),
        Op("STABLEHLO_PAD", [joined, Tensor.constant("zero", np.float32(0))], [padded],
           {"edge_padding_low": [1, 1], "edge_padding_high": [1, 1], "interior_padding": [0, 0]}),
        Op("CUSTOM", [words, state, flags], [custom_out], custom_code="EdgepressTest",
           custom_options=b"\x01\x02flexbuffer"),
    ]
    main = Graph("main", [x, xq], [act, cast, deq, padded, custom_out], ops)
    a, b, s = Tensor("a", (3,)), Tensor.constant("b", np.arange(3, dtype=np.float32)), Tensor("s", (3,))
    aux = Graph("aux", [a], [s], [Op("ADD", [a, b], [s], {"fused_activation_function": "RELU"})])
    sigs = [Signature("detect", 0, {"image": x, "quantized": xq}, {"features": act, "widths": cast}),
            Signature("add", 1, {"a": a}, {"sum": s})]
    return Model([main, aux], sigs, {"labels": b"a\nb", "empty": b""}, "rich edgepress model")


def positions(graph) -> dict:
    return {id(t): i for i, t in enumerate(graph.tensors())}


def assert_same_tensor(a: Tensor, b: Tensor):
    what = f"tensor {a.name}"
    assert (a.name, a.shape, a.dtype, a.is_variable) == (b.name, b.shape, b.dtype, b.is_variable), what
    assert (a.data is None) == (b.data is None), what
    if a.data is not None:
        assert np.asarray(a.data).dtype == np.asarray(b.data).dtype, what
        np.testing.assert_array_equal(a.data, b.data, err_msg=what)
    assert (a.quant is None) == (b.quant is None), what
    if a.quant is not None:
        for field in ("scale", "zero_point", "min", "max"):
            np.testing.assert_array_equal(getattr(a.quant, field), getattr(b.quant, field), err_msg=what)
        assert a.quant.axis == b.quant.axis, what
    assert (a.sparsity is None) == (b.sparsity is None), what
    if a.sparsity is not None:
        assert (a.sparsity.traversal_order, a.sparsity.block_map) == (b.sparsity.traversal_order, b.sparsity.block_map)
        for da, db in zip(a.sparsity.dim_metadata, b.sparsity.dim_metadata, strict=True):
            assert (da["format"], da["dense_size"]) == (db["format"], db["dense_size"]), what
            for key in ("array_segments", "array_indices"):
                assert (da[key] is None) == (db[key] is None), what
                if da[key] is not None:
                    assert da[key].dtype == db[key].dtype, what
                    np.testing.assert_array_equal(da[key], db[key], err_msg=what)


def assert_same_model(a: Model, b: Model):
    assert len(a.graphs) == len(b.graphs) and a.description == b.description
    for ga, gb in zip(a.graphs, b.graphs):
        pa, pb = positions(ga), positions(gb)
        assert ga.name == gb.name
        for ta, tb in zip(ga.tensors(), gb.tensors(), strict=True):
            assert_same_tensor(ta, tb)
        assert [pa[id(t)] for t in ga.inputs] == [pb[id(t)] for t in gb.inputs]
        assert [pa[id(t)] for t in ga.outputs] == [pb[id(t)] for t in gb.outputs]
        for oa, ob in zip(ga.ops, gb.ops, strict=True):
            assert (oa.type, oa.options, oa.custom_code, oa.custom_options) == \
                   (ob.type, ob.options, ob.custom_code, ob.custom_options)
            assert [None if t is None else pa[id(t)] for t in oa.inputs] == \
                   [None if t is None else pb[id(t)] for t in ob.inputs]
            assert [pa[id(t)] for t in oa.outputs] == [pb[id(t)] for t in ob.outputs]
    for sa, sb in zip(a.signatures, b.signatures, strict=True):
        pa, pb = positions(a.graphs[sa.graph_index]), positions(b.graphs[sb.graph_index])
        assert (sa.key, sa.graph_index) == (sb.key, sb.graph_index)
        assert {k: pa[id(t)] for k, t in sa.inputs.items()} == {k: pb[id(t)] for k, t in sb.inputs.items()}
        assert {k: pa[id(t)] for k, t in sa.outputs.items()} == {k: pb[id(t)] for k, t in sb.outputs.items()}


def test_round_trip_preserves_everything():
    model = rich_model()
    data = serialize(model)
    back = read_tflite(data)
    assert_same_model(model, back)
    assert {k: back.metadata[k] for k in model.metadata} == model.metadata
    assert set(back.metadata) == set(model.metadata) | {"min_runtime_version", "producer"}
    assert back.graph.ops[3].options["alpha"] == 0.2  # float32 options read back as the short decimal
    assert all(t.sources == [t.name] for g in back.graphs for t in g.tensors())
    assert all(op.sources == [op.outputs[0].name] for op in back.ops())
    assert back.graph.ops[-1].inputs[0].data.tolist() == [b"edge", b"press", b""]
    assert serialize(back) == data


def test_reads_paths_and_bytes_alike(tmp_path):
    data = serialize(rich_model())
    path = tmp_path / "rich.tflite"
    path.write_bytes(data)
    from_path = read_tflite(path)
    assert from_path.source_path == str(path)
    assert_same_model(read_tflite(data), from_path)
    assert_same_model(read_tflite(bytearray(data)), read_tflite(memoryview(data)))


def test_constants_are_writable_and_independent():
    x, y, z = Tensor("x", (4,)), Tensor("y", (4,)), Tensor("z", (4,))
    k1, k2 = Tensor.constant("k1", np.ones(4, np.float32)), Tensor.constant("k2", np.ones(4, np.float32))
    model = Model([Graph("main", [x], [z], [Op("ADD", [x, k1], [y]), Op("MUL", [y, k2], [z])])])
    back = read_tflite(serialize(model))  # k1 and k2 share one buffer in the file
    a, b = back.graph.ops[0].inputs[1].data, back.graph.ops[1].inputs[1].data
    a *= 3
    assert b.tolist() == [1, 1, 1, 1] and a.tolist() == [3, 3, 3, 3]


def sample_value(field: schema.Field):
    """A non-default value of an options field, by its kind."""
    if field.name in schema.ENUM_FIELDS:
        names = sorted(schema._members(schema.ENUM_FIELDS[field.name]))
        return [names[-1], names[0]] if field.kind == "vector" else names[-1]
    if field.kind == "string":
        return "edgepress"
    if field.kind == "vector":
        return b"\x01\x02" if field.dtype == "uint8" else [True, False] if field.dtype == "bool" else \
            [0.5, -2.0] if field.dtype.startswith("float") else [3, -1] if field.dtype[0] == "i" else [3, 1]
    return True if field.dtype == "bool" else 0.5 if field.dtype.startswith("float") else 3


@pytest.mark.parametrize("op_type", sorted(schema.OPTIONS_TABLE))
def test_every_options_table_round_trips(op_type):
    import flatbuffers
    table = schema.table_for(op_type)
    for options in (schema.builtin_defaults(op_type), {f.name: sample_value(f) for f in table.fields}):
        builder = flatbuffers.Builder(256)
        union, type_code, offset = schema.write_options(builder, op_type, options)
        builder.Finish(offset)
        obj = flatbuffers.table.Table(builder.Output(), 0)
        obj.Pos = flatbuffers.encode.Get(flatbuffers.packer.uoffset, obj.Bytes, 0)
        assert (union, type_code) == (table.union, table.type_code)
        assert schema.read_options(op_type, type_code, obj) == {**schema.builtin_defaults(op_type), **options}


def test_schema_defaults():
    assert schema.builtin_defaults("CONV_2D") == {
        "padding": "SAME", "stride_w": 0, "stride_h": 0, "fused_activation_function": "NONE",
        "dilation_w_factor": 1, "dilation_h_factor": 1, "quantized_bias_type": "FLOAT32"}
    assert schema.builtin_defaults("ADD")["pot_scale_int16"] is True
    assert schema.builtin_defaults("LOGISTIC") == {} and schema.builtin_defaults("PRELU") == {}
    assert schema.OPTIONS_TABLE["MAX_POOL_2D"] == schema.OPTIONS_TABLE["AVERAGE_POOL_2D"] == "Pool2DOptions"
    defaults = schema.builtin_defaults("RESHAPE")
    defaults["new_shape"].append(3)
    assert schema.builtin_defaults("RESHAPE") == {"new_shape": []}
    assert schema.tensor_type_name("float32") == "FLOAT32" and schema.dtype_of(9) == "int8"


# -- corrupt and foreign files --------------------------------------------------------------------------

def small_tflite() -> bytes:
    x, y, z = Tensor("x", (2, 3), "int32"), Tensor("y", (2, 3), "int32"), Tensor("z", (2, 3), "int32")
    k = Tensor.constant("k", np.arange(6, dtype=np.int32).reshape(2, 3))
    ops = [Op("ADD", [x, k], [y], {"fused_activation_function": "RELU"}), Op("NEG", [y], [z])]
    return serialize(Model([Graph("main", [x], [z], ops)]))


def assert_format_error(data_or_path, *fragments):
    with pytest.raises(ModelFormatError) as info:
        read_tflite(data_or_path)
    for fragment in fragments:
        assert fragment in str(info.value), str(info.value)
    return info.value


def test_empty_missing_and_foreign_files(tmp_path):
    empty = tmp_path / "empty.tflite"
    empty.write_bytes(b"")
    assert_format_error(empty, str(empty), "too small")
    assert_format_error(tmp_path / "absent.tflite", "absent.tflite", "No such file")
    graph = onnx.helper.make_graph([onnx.helper.make_node("Relu", ["x"], ["y"])], "g",
                                   [onnx.helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [2])],
                                   [onnx.helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, [2])])
    renamed = tmp_path / "model.tflite"
    renamed.write_bytes(onnx.helper.make_model(graph).SerializeToString())
    assert_format_error(renamed, str(renamed), "not a TFLite flatbuffer")
    text = tmp_path / "notes.tflite"
    text.write_text("this is not a model at all")
    assert_format_error(text, "not a TFLite flatbuffer")


@pytest.mark.parametrize("fraction", [0.02, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99])
def test_truncated_files(tmp_path, fraction):
    data = serialize(rich_model())
    path = tmp_path / "cut.tflite"
    path.write_bytes(data[:max(9, int(len(data) * fraction))])
    assert_format_error(path, str(path))


def test_random_byte_flips_never_escape_as_other_errors():
    """Flipped bytes may land in weights (still a readable model) but must never raise anything except
    ModelFormatError; flips in the header always fail."""
    data = small_tflite()
    r = np.random.default_rng(1)
    outcomes = {"read": 0, "error": 0}
    for _ in range(400):
        bad = bytearray(data)
        for at in r.integers(0, len(bad), r.integers(1, 5)):
            bad[at] = int(r.integers(0, 256))
        try:
            read_tflite(bytes(bad))
            outcomes["read"] += 1
        except ModelFormatError as e:
            assert "<bytes>" in str(e)
            outcomes["error"] += 1
    assert outcomes["error"] > 50, outcomes
    for at in range(8):
        bad = bytearray(data)
        bad[at] ^= 0xFF
        assert_format_error(bytes(bad))


def field_position(table, vtable_offset: int) -> int:
    return table._tab.Pos + table._tab.Offset(vtable_offset)


def patched(data: bytes, position: int, fmt: str, value) -> bytes:
    bad = bytearray(data)
    struct.pack_into(fmt, bad, position, value)
    return bytes(bad)


def test_indices_and_enums_are_validated():
    data = small_tflite()
    m = tflite.Model.GetRootAs(data, 0)
    g = m.Subgraphs(0)
    op = g.Operators(0)
    inputs_at = op._tab.Vector(op._tab.Offset(6))
    assert_format_error(patched(data, inputs_at, "<i", 7), "operator 0", "tensor 7 is out of range")
    assert_format_error(patched(data, field_position(g.Tensors(1), 8), "<I", 99), "buffer 99 is out of range")
    assert_format_error(patched(data, field_position(g.Tensors(1), 6), "<b", 17), "INT4")
    assert_format_error(patched(data, field_position(g.Operators(1), 4), "<I", 5), "operator code 5 is out of range")
    assert_format_error(patched(data, field_position(m, 4), "<I", 2), "schema version 2")
    assert_format_error(patched(data, field_position(op, 10), "<B", 7), "union type 7, expected AddOptions")
    assert_format_error(patched(data, g._tab.Vector(g._tab.Offset(4)) - 4, "<I", 2**30), "cannot fit")
