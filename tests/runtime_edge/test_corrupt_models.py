"""Hostile models get clean Python exceptions, never a crash: corruptions generated here from real models
(truncations, flipped bytes, overwritten offsets) and targeted semantic damage (indices out of range,
wrong buffer sizes, huge or negative dims, broken quantization and sparsity) made through the schema's
object API. A crash in the C core would kill the test process, so every case runs in-process."""
import flatbuffers
import numpy as np
import pytest
from ai_edge_litert import schema_py_generated as schema

from edgepress.runtime_edge import Interpreter

pytestmark = pytest.mark.realmodel


@pytest.fixture(scope="module")
def short_range(face_model_files) -> bytes:
    with open(face_model_files["face_detection_short_range"], "rb") as f:
        return f.read()


@pytest.fixture(scope="module")
def sparse(face_model_files) -> bytes:
    with open(face_model_files["face_detection_full_range_sparse"], "rb") as f:
        return f.read()


def exercise(content: bytes):
    """Load, allocate and run; returns the exception raised (ValueError/RuntimeError) or None."""
    try:
        it = Interpreter(model_content=content)
        it.allocate_tensors()
        for d in it.get_input_details():
            it.set_tensor(d["index"], np.full(d["shape"], 0.5, d["dtype"]))
        it.invoke()
        for d in it.get_output_details():
            it.get_tensor(d["index"])
    except (ValueError, RuntimeError) as e:
        assert str(e), "errors carry the C core's message"
        return e
    return None


def test_truncated_everywhere(short_range):
    rng = np.random.default_rng(0)
    cuts = sorted(set(range(0, 64)) | set(rng.integers(64, len(short_range), 120).tolist()))
    for cut in cuts:
        assert exercise(short_range[:cut]) is not None, cut


def weight_ranges(content: bytes) -> list:
    """[start, end) of every buffer's inline data: flips there only change numbers, not structure."""
    model = schema.Model.GetRootAs(content, 0)
    ranges = []
    for i in range(model.BuffersLength()):
        buf = model.Buffers(i)
        field = buf._tab.Offset(4)
        if field and buf.DataLength():
            start = buf._tab.Vector(field)
            ranges.append((start, start + buf.DataLength()))
    return ranges


def structure_positions(content: bytes) -> np.ndarray:
    keep = np.ones(len(content), bool)
    for start, end in weight_ranges(content):
        keep[start:end] = False
    return np.flatnonzero(keep)


def test_random_byte_flips(short_range):
    rng = np.random.default_rng(1)
    positions = structure_positions(short_range)
    assert 0 < len(positions) < len(short_range) // 2  # the weights are most of the file
    for _ in range(300):
        damaged = bytearray(short_range)
        for at in rng.choice(positions, int(rng.integers(1, 4))):
            damaged[at] ^= 1 << int(rng.integers(0, 8))
        exercise(bytes(damaged))


def offset_positions(content: bytes) -> list:
    """Byte positions of the root offset, the Model table's vtable offset and the length words of its
    vectors: the places where a bad value sends a careless reader out of bounds."""
    model = schema.Model.GetRootAs(content, 0)
    tab = model._tab
    positions = [0, tab.Pos]
    for slot in range(10):
        field = tab.Offset(4 + 2 * slot)
        if field:
            positions += [tab.Pos + field]
            if slot in (1, 2, 4, 6, 7):
                positions.append(tab.Vector(field) - 4)
    return positions


@pytest.mark.parametrize("value", [0, 1, 3, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF, 0xFFFFFFF0])
def test_bad_offsets_and_lengths(short_range, value):
    for pos in offset_positions(short_range):
        damaged = bytearray(short_range)
        damaged[pos:pos + 4] = int(value).to_bytes(4, "little")
        error = exercise(bytes(damaged))
        if value in (0x7FFFFFFF, 0x80000000, 0xFFFFFFFF, 0xFFFFFFF0):
            assert isinstance(error, ValueError), (pos, value)


def test_wrong_identifier(short_range):
    with pytest.raises(ValueError, match="file identifier"):
        Interpreter(model_content=short_range[:4] + b"XXXX" + short_range[8:])


def repack(content: bytes, damage) -> bytes:
    model = schema.ModelT.InitFromPackedBuf(content, 0)
    damage(model, model.subgraphs[0])
    builder = flatbuffers.Builder(len(content) + 1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


def first_constant(model, graph):
    return next(t for t in graph.tensors if model.buffers[t.buffer].data is not None)


def first_op_of(model, graph, name):
    code = getattr(schema.BuiltinOperator, name)
    def code_of(op):  # old files keep the code in the deprecated byte only
        oc = model.operatorCodes[op.opcodeIndex]
        return max(oc.builtinCode, oc.deprecatedBuiltinCode)
    return next(op for op in graph.operators if code_of(op) == code)


def set_attr(obj, name, value):
    setattr(obj, name, value)


def shorten_buffer(model, graph):
    buf = model.buffers[first_constant(model, graph).buffer]
    buf.data = buf.data[:-2]


def external_past_end(model, graph):
    buf = model.buffers[first_constant(model, graph).buffer]
    buf.data, buf.offset, buf.size = None, 1 << 20, 1 << 30


def quant_mismatch(model, graph):
    q = schema.QuantizationParametersT()
    q.scale, q.zeroPoint = [0.1, 0.2, 0.3], [0, 0]
    first_constant(model, graph).quantization = q


def per_axis_wrong_count(model, graph):
    t = first_constant(model, graph)
    q = schema.QuantizationParametersT()
    q.scale, q.zeroPoint, q.quantizedDimension = [0.1] * (t.shape[0] + 1), [0] * (t.shape[0] + 1), 0
    t.quantization = q


def bad_signature(model, graph):
    sig, tm = schema.SignatureDefT(), schema.TensorMapT()
    tm.name, tm.tensorIndex = "x", len(graph.tensors) + 3
    sig.signatureKey, sig.inputs, sig.outputs = "serving_default", [tm], []
    model.signatureDefs = [sig]


def op_writes_constant(model, graph):
    graph.operators[1].outputs = [graph.tensors.index(first_constant(model, graph))]


def op_reads_later_tensor(model, graph):
    graph.operators[0].inputs = [graph.operators[-1].outputs[0]] + list(graph.operators[0].inputs[1:])


def add_with_conv_options(model, graph):
    op = first_op_of(model, graph, "ADD")
    op.builtinOptionsType, op.builtinOptions = schema.BuiltinOptions.Conv2DOptions, schema.Conv2DOptionsT()


SEMANTIC = {
    "buffer index": (lambda m, g: set_attr(g.tensors[5], "buffer", len(m.buffers) + 7), "refers to buffer"),
    "opcode index": (lambda m, g: set_attr(g.operators[3], "opcodeIndex", 99), "uses operator code 99"),
    "op input index": (lambda m, g: set_attr(g.operators[2], "inputs", [len(g.tensors) + 1]), "op 2 input 0"),
    "op output index": (lambda m, g: set_attr(g.operators[2], "outputs", [-5]), "op 2 output 0"),
    "graph input index": (lambda m, g: set_attr(g, "inputs", [len(g.tensors)]), "subgraph 0 input 0"),
    "huge dims": (lambda m, g: set_attr(g.tensors[g.inputs[0]], "shape", [1 << 20, 1 << 20, 1 << 10]),
                  "too large"),
    "negative dim": (lambda m, g: set_attr(g.tensors[7], "shape", [4, -3]), "negative dimension"),
    "rank 9": (lambda m, g: set_attr(g.tensors[7], "shape", [1] * 9), "rank 9"),
    "unknown dtype": (lambda m, g: set_attr(g.tensors[7], "type", 77), "unknown type 77"),
    "short buffer": (shorten_buffer, "buffer; its shape and"),
    "external data past the end": (external_past_end, "lies outside the"),
    "scale/zero point counts": (quant_mismatch, "3 scales and 2 zero points"),
    "per-axis count": (per_axis_wrong_count, "per-axis scales"),
    "signature tensor": (bad_signature, "signature 0 maps 'x'"),
    "schema version": (lambda m, g: set_attr(m, "version", 2), "schema version 2"),
    "builtin code": (lambda m, g: (set_attr(m.operatorCodes[0], "builtinCode", 9999)), "unknown builtin code"),
    "no subgraphs": (lambda m, g: set_attr(m, "subgraphs", []), "no subgraphs"),
    "write to constant": (op_writes_constant, "which is a constant"),
    "read before write": (op_reads_later_tensor, "before anything writes it"),
    "options union type": (add_with_conv_options, "carries options of union type"),
}


@pytest.mark.parametrize("case", sorted(SEMANTIC))
def test_semantic_damage_is_named(short_range, case):
    damage, message = SEMANTIC[case]
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        Interpreter(model_content=repack(short_range, damage))


def sparse_tensor(graph):
    return next(t for t in graph.tensors if t.sparsity is not None)


def break_indices(model, graph):
    dim = sparse_tensor(graph).sparsity.dimMetadata[-1]
    dim.arrayIndices.values = np.full(len(dim.arrayIndices.values), 200, dtype=np.uint8)


def break_segments(model, graph):
    dim = sparse_tensor(graph).sparsity.dimMetadata[-1]
    values = np.array(dim.arraySegments.values).copy()
    values[1] = values[-1] + 5
    dim.arraySegments.values = values


def break_traversal(model, graph):
    sparse_tensor(graph).sparsity.traversalOrder = [0, 0, 1, 2]


def break_dense_size(model, graph):
    sparse_tensor(graph).sparsity.dimMetadata[0].denseSize += 1


@pytest.mark.parametrize("damage", [break_indices, break_segments, break_traversal, break_dense_size])
def test_sparsity_damage_is_rejected(sparse, damage):
    with pytest.raises(ValueError, match="sparsity"):
        Interpreter(model_content=repack(sparse, damage))


def test_undamaged_repack_still_loads(short_range, sparse):
    """The object-API round trip itself is harmless, so the failures above come from the damage."""
    for content in (short_range, sparse):
        repacked = repack(content, lambda m, g: None)
        error = exercise(repacked)
        assert error is None or "unsupported op" in str(error), error
