"""The .tflite writer: hand-built IR models run in ai-edge-litert (and tflite-runtime 2.14 where its
environment is set up) and match NumPy computations written here; the file layout (alignment, shared
buffers, signatures, metadata, versions) is checked through the schema bindings; output is deterministic,
writes are atomic, and a ~100 MB model serializes in seconds without copies."""
from __future__ import annotations

import math
import os
import time
import tracemalloc

import numpy as np
import pytest
import tflite
from engines import tflite_runtime_run

import edgepress
from edgepress.convert.ir import Graph, Model, Op, QuantParams, Signature, Sparsity, Tensor
from edgepress.convert.tflite import schema
from edgepress.convert.tflite.reader import read_tflite
from edgepress.convert.tflite.versions import operator_version
from edgepress.convert.tflite.writer import serialize, write_tflite
from edgepress.errors import EdgepressError

TOL = 1e-5


def rng(seed=0):
    return np.random.default_rng(seed)


def litert(data: bytes, feeds: dict, resize: dict | None = None) -> dict:
    from ai_edge_litert.interpreter import Interpreter
    interp = Interpreter(model_content=data, num_threads=1)
    for name, shape in (resize or {}).items():
        detail = next(d for d in interp.get_input_details() if d["name"] == name)
        interp.resize_tensor_input(detail["index"], shape)
    interp.allocate_tensors()
    return interp.get_signature_runner("serving_default")(**feeds)


def model_of(inputs, outputs, ops, **kw) -> Model:
    return Model(graphs=[Graph(inputs=list(inputs), outputs=list(outputs), ops=list(ops))], **kw)


def conv_nhwc(x, w, b, stride, padding):
    """Direct convolution: x NHWC, w OHWI, TFLite SAME/VALID padding (extra padding at the end)."""
    n, h, wd, _ = x.shape
    o, kh, kw, _ = w.shape
    if padding == "SAME":
        oh, ow = -(-h // stride), -(-wd // stride)
        ph, pw = max((oh - 1) * stride + kh - h, 0), max((ow - 1) * stride + kw - wd, 0)
        x = np.pad(x, ((0, 0), (ph // 2, ph - ph // 2), (pw // 2, pw - pw // 2), (0, 0)))
    else:
        oh, ow = (h - kh) // stride + 1, (wd - kw) // stride + 1
    out = np.zeros((n, oh, ow, o), np.float64)
    for i in range(oh):
        for j in range(ow):
            patch = x[:, i * stride:i * stride + kh, j * stride:j * stride + kw, :].astype(np.float64)
            out[:, i, j, :] = np.einsum("nhwc,ohwc->no", patch, w.astype(np.float64))
    return out + b


# -- ops against NumPy ----------------------------------------------------------------------------------

def conv_relu_model(seed=0):
    r = rng(seed)
    x = Tensor("x", (1, 9, 9, 3))
    w = Tensor.constant("w", r.standard_normal((4, 3, 3, 3)).astype(np.float32))
    b = Tensor.constant("b", r.standard_normal(4).astype(np.float32))
    c, y = Tensor("conv", (1, 5, 5, 4)), Tensor("y", (1, 5, 5, 4))
    ops = [Op("CONV_2D", [x, w, b], [c], {"padding": "SAME", "stride_w": 2, "stride_h": 2}), Op("RELU", [c], [y])]
    return model_of([x], [y], ops), w.data, b.data


def test_conv2d_then_relu_matches_numpy():
    model, w, b = conv_relu_model()
    x = rng(1).standard_normal((1, 9, 9, 3)).astype(np.float32)
    got = litert(serialize(model), {"x": x})["y"]
    np.testing.assert_allclose(got, np.maximum(conv_nhwc(x, w, b, 2, "SAME"), 0), rtol=TOL, atol=TOL)


def test_add_with_broadcast_and_fused_relu6():
    a, b, s = Tensor("a", (2, 1, 3)), Tensor("b", (1, 4, 1)), Tensor("s", (2, 4, 3))
    k = Tensor.constant("k", np.array([0.5, -1.0, 2.0], np.float32))
    y = Tensor("y", (2, 4, 3))
    ops = [Op("ADD", [a, b], [s]), Op("ADD", [s, k], [y], {"fused_activation_function": "RELU6"})]
    feeds = {"a": rng(2).uniform(-4, 4, (2, 1, 3)).astype(np.float32),
             "b": rng(3).uniform(-4, 4, (1, 4, 1)).astype(np.float32)}
    got = litert(serialize(model_of([a, b], [y], ops)), feeds)["y"]
    np.testing.assert_allclose(got, np.clip(feeds["a"] + feeds["b"] + k.data, 0, 6), rtol=TOL, atol=TOL)


def test_reshape_by_shape_input_and_by_option():
    x = Tensor("x", (2, 3, 4))
    shape = Tensor.constant("shape", np.array([4, -1], np.int32))
    y1, y2 = Tensor("y1", (4, 6)), Tensor("y2", (3, 8))
    ops = [Op("RESHAPE", [x, shape], [y1], {"new_shape": [4, 6]}), Op("RESHAPE", [x], [y2], {"new_shape": [3, 8]})]
    xv = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    got = litert(serialize(model_of([x], [y1, y2], ops)), {"x": xv})
    np.testing.assert_array_equal(got["y1"], xv.reshape(4, 6))
    np.testing.assert_array_equal(got["y2"], xv.reshape(3, 8))


def test_concatenation_of_input_and_constant():
    x = Tensor("x", (1, 2, 2, 3))
    k = Tensor.constant("k", rng(4).standard_normal((1, 2, 2, 2)).astype(np.float32))
    y = Tensor("y", (1, 2, 2, 5))
    xv = rng(5).standard_normal((1, 2, 2, 3)).astype(np.float32)
    got = litert(serialize(model_of([x], [y], [Op("CONCATENATION", [x, k], [y], {"axis": -1})])), {"x": xv})["y"]
    np.testing.assert_array_equal(got, np.concatenate([xv, k.data], axis=-1))


def test_fully_connected_with_bias_without_bias_and_keep_num_dims():
    r = rng(6)
    w = Tensor.constant("w", r.standard_normal((3, 5)).astype(np.float32))
    b = Tensor.constant("b", r.standard_normal(3).astype(np.float32))
    x, x3 = Tensor("x", (2, 5)), Tensor("x3", (2, 4, 5))
    y1, y2, y3, y4 = Tensor("y1", (2, 3)), Tensor("y2", (2, 3)), Tensor("y3", (2, 3)), Tensor("y4", (2, 4, 3))
    ops = [Op("FULLY_CONNECTED", [x, w, b], [y1]), Op("FULLY_CONNECTED", [x, w], [y2]),
           Op("FULLY_CONNECTED", [x, w, None], [y3]),
           Op("FULLY_CONNECTED", [x3, w, b], [y4], {"keep_num_dims": True})]
    feeds = {"x": r.standard_normal((2, 5)).astype(np.float32), "x3": r.standard_normal((2, 4, 5)).astype(np.float32)}
    got = litert(serialize(model_of([x, x3], [y1, y2, y3, y4], ops)), feeds)
    np.testing.assert_allclose(got["y1"], feeds["x"] @ w.data.T + b.data, rtol=TOL, atol=TOL)
    np.testing.assert_allclose(got["y2"], feeds["x"] @ w.data.T, rtol=TOL, atol=TOL)
    np.testing.assert_allclose(got["y3"], feeds["x"] @ w.data.T, rtol=TOL, atol=TOL)
    np.testing.assert_allclose(got["y4"], feeds["x3"] @ w.data.T + b.data, rtol=TOL, atol=TOL)
    assert [operator_version(op) for op in ops] == [1, 6, 1, 5]


def test_per_axis_and_per_tensor_quantized_tensors():
    q = rng(7).integers(-127, 128, (3, 2, 2)).astype(np.int8)
    scales = np.array([0.5, 0.25, 2.0], np.float32)
    wq = Tensor.constant("wq", q)
    wq.quant = QuantParams(scales, np.zeros(3), axis=0)
    xq = Tensor("xq", (2, 3), "uint8")
    xq.quant = QuantParams(0.1, 128)
    # A dequantized constant feeds an op: XNNPACK folds such DEQUANTIZEs into their consumers and does not
    # materialize them as graph outputs.
    a, yw, w, yx = Tensor("a", (3, 2, 2)), Tensor("yw", (3, 2, 2)), Tensor("w", (3, 2, 2)), Tensor("yx", (2, 3))
    ops = [Op("DEQUANTIZE", [wq], [w]), Op("ADD", [a, w], [yw]), Op("DEQUANTIZE", [xq], [yx])]
    av = rng(8).standard_normal((3, 2, 2)).astype(np.float32)
    xv = rng(8).integers(0, 256, (2, 3)).astype(np.uint8)
    data = serialize(model_of([a, xq], [yw, yx], ops))
    got = litert(data, {"a": av, "xq": xv})
    np.testing.assert_allclose(got["yw"], av + q.astype(np.float32) * scales[:, None, None], rtol=1e-6)
    np.testing.assert_allclose(got["yx"], (xv.astype(np.float32) - 128) * np.float32(0.1), rtol=1e-6)
    g = tflite.Model.GetRootAs(data, 0).Subgraphs(0)
    t = next(g.Tensors(i) for i in range(g.TensorsLength()) if g.Tensors(i).Name() == b"wq")
    assert t.Quantization().QuantizedDimension() == 0
    np.testing.assert_array_equal(t.Quantization().ScaleAsNumpy(), scales)
    assert t.Quantization().ZeroPointAsNumpy().tolist() == [0, 0, 0]
    assert operator_version(ops[0]) == 5 and operator_version(ops[2]) == 1


def int8_conv_model(seed=9):
    """An int8 CONV_2D: per-axis int8 weights (axis 0, zero point 0), int32 bias at input x weight scale."""
    r = rng(seed)
    x = Tensor("x", (1, 6, 6, 3), "int8")
    x.quant = QuantParams(0.05, -3)
    wf = r.standard_normal((4, 3, 3, 3)).astype(np.float32)
    wscale = np.abs(wf).reshape(4, -1).max(axis=1) / 127
    w = Tensor.constant("w", np.clip(np.round(wf / wscale[:, None, None, None]), -127, 127).astype(np.int8))
    w.quant = QuantParams(wscale, np.zeros(4), axis=0)
    bscale = 0.05 * wscale
    b = Tensor.constant("b", np.round(r.standard_normal(4) / bscale).astype(np.int32))
    b.quant = QuantParams(bscale, np.zeros(4), axis=0)
    y = Tensor("y", (1, 6, 6, 4), "int8")
    y.quant = QuantParams(0.1, 5)
    op = Op("CONV_2D", [x, w, b], [y], {"padding": "SAME", "stride_w": 1, "stride_h": 1})
    return model_of([x], [y], [op]), op


def test_int8_per_axis_conv_within_one_lsb_of_numpy():
    model, op = int8_conv_model()
    _, w, b = op.inputs
    xq = rng(10).integers(-128, 128, (1, 6, 6, 3)).astype(np.int8)
    got = litert(serialize(model), {"x": xq})["y"].astype(np.int32)
    real_x = (xq.astype(np.float64) + 3) * 0.05
    real_w = w.data.astype(np.float64) * w.quant.scale.astype(np.float64)[:, None, None, None]
    real = conv_nhwc(real_x, real_w, b.data * b.quant.scale.astype(np.float64), 1, "SAME")
    want = np.clip(np.round(real / 0.1) + 5, -128, 127)
    assert np.max(np.abs(got - want)) <= 1
    assert operator_version(op) == 3


def test_unknown_batch_dimension():
    r = rng(11)
    x = Tensor("x", (None, 4))
    w = Tensor.constant("w", r.standard_normal((3, 4)).astype(np.float32))
    y = Tensor("y", (None, 3))
    data = serialize(model_of([x], [y], [Op("FULLY_CONNECTED", [x, w], [y])]))
    t = tflite.Model.GetRootAs(data, 0).Subgraphs(0).Tensors(0)
    assert t.ShapeAsNumpy().tolist() == [1, 4] and t.ShapeSignatureAsNumpy().tolist() == [-1, 4]
    assert tflite.Model.GetRootAs(data, 0).Subgraphs(0).Tensors(1).ShapeSignatureLength() == 0  # static
    xv = r.standard_normal((5, 4)).astype(np.float32)
    got = litert(data, {"x": xv}, resize={"x": [5, 4]})["y"]
    np.testing.assert_allclose(got, xv @ w.data.T, rtol=TOL, atol=TOL)


def test_float16_weights_behind_dequantize():
    r = rng(12)
    w16 = Tensor.constant("w16", r.standard_normal((3, 4)).astype(np.float16))
    w, x, y = Tensor("w", (3, 4)), Tensor("x", (2, 4)), Tensor("y", (2, 3))
    ops = [Op("DEQUANTIZE", [w16], [w]), Op("FULLY_CONNECTED", [x, w], [y])]
    xv = r.standard_normal((2, 4)).astype(np.float32)
    got = litert(serialize(model_of([x], [y], ops)), {"x": xv})["y"]
    np.testing.assert_allclose(got, xv @ w16.data.astype(np.float32).T, rtol=TOL, atol=TOL)
    assert operator_version(ops[0]) == 3


def csr_tensor(dense: np.ndarray, name: str) -> Tensor:
    """A 2-D constant in TFLite's sparse format: rows dense, columns CSR."""
    rows, cols = np.nonzero(dense)
    segments = np.searchsorted(rows, np.arange(dense.shape[0] + 1)).astype(np.int32)
    t = Tensor(name, dense.shape, str(dense.dtype), data=dense[rows, cols].copy())
    t.sparsity = Sparsity([0, 1], [], [
        {"format": "DENSE", "dense_size": dense.shape[0], "array_segments": None, "array_indices": None},
        {"format": "SPARSE_CSR", "dense_size": 0, "array_segments": segments,
         "array_indices": cols.astype(np.uint8)}])
    return t


def test_sparse_constant_behind_densify():
    dense = rng(13).standard_normal((4, 6)).astype(np.float32)
    dense[rng(14).random((4, 6)) < 0.6] = 0
    sparse = csr_tensor(dense, "sparse")
    d, x, y = Tensor("dense", (4, 6)), Tensor("x", (4, 6)), Tensor("y", (4, 6))
    ops = [Op("DENSIFY", [sparse], [d]), Op("ADD", [x, d], [y])]
    xv = rng(15).standard_normal((4, 6)).astype(np.float32)
    got = litert(serialize(model_of([x], [y], ops)), {"x": xv})["y"]
    np.testing.assert_array_equal(got, xv + dense)


def test_builtin_code_past_127_uses_both_code_fields():
    x, y = Tensor("x", (2, 5)), Tensor("y", (2, 5))
    data = serialize(model_of([x], [y], [Op("GELU", [x], [y])]))
    code = tflite.Model.GetRootAs(data, 0).OperatorCodes(0)
    assert (code.DeprecatedBuiltinCode(), code.BuiltinCode()) == (127, schema.OPERATORS["GELU"])
    xv = rng(16).standard_normal((2, 5)).astype(np.float32)
    erf = np.vectorize(math.erf)
    np.testing.assert_allclose(litert(data, {"x": xv})["y"], 0.5 * xv * (1 + erf(xv / math.sqrt(2))),
                               rtol=1e-4, atol=1e-5)


# -- versions -------------------------------------------------------------------------------------------

def test_operator_versions_follow_the_tflite_version_table():
    x, w = Tensor("x", (1, 8, 8, 4)), Tensor.constant("w", np.zeros((1, 3, 3, 4), np.float32))
    y = Tensor("y", (1, 8, 8, 4))
    assert operator_version(Op("DEPTHWISE_CONV_2D", [x, w], [y])) == 1
    assert operator_version(Op("DEPTHWISE_CONV_2D", [x, w], [y], {"dilation_w_factor": 2})) == 2
    assert operator_version(Op("RESIZE_BILINEAR", [x, w], [y])) == 1
    assert operator_version(Op("RESIZE_BILINEAR", [x, w], [y], {"half_pixel_centers": True})) == 3
    assert operator_version(Op("BROADCAST_TO", [x, w], [y])) == 2  # version 1 was withdrawn
    assert operator_version(Op("LOGISTIC", [Tensor("q", (4,), "int8")], [Tensor("p", (4,), "int8")])) == 2
    grouped = Op("CONV_2D", [Tensor("g", (1, 8, 8, 8)), w, None], [y])
    assert operator_version(grouped) == 6
    model, _, _ = conv_relu_model()
    codes = tflite.Model.GetRootAs(serialize(model), 0)
    assert [codes.OperatorCodes(i).Version() for i in range(codes.OperatorCodesLength())] == [1, 1]


def test_older_runtime_loads_what_the_writer_emits():
    """tflite-runtime 2.14 (the oldest runtime we promise) runs int8, float16, sparse and >127-code models."""
    model, _ = int8_conv_model()
    cases = [(model, {"x": rng(17).integers(-128, 128, (1, 6, 6, 3)).astype(np.int8)}),
             (conv_relu_model()[0], {"x": rng(18).standard_normal((1, 9, 9, 3)).astype(np.float32)})]
    dense = np.eye(4, dtype=np.float32)
    d, x, y = Tensor("dense", (4, 4)), Tensor("x", (4, 4)), Tensor("y", (4, 4))
    cases.append((model_of([x], [y], [Op("DENSIFY", [csr_tensor(dense, "s")], [d]), Op("MUL", [x, d], [y])]),
                  {"x": rng(19).standard_normal((4, 4)).astype(np.float32)}))
    g, gy = Tensor("g", (3,)), Tensor("gy", (3,))
    cases.append((model_of([g], [gy], [Op("GELU", [g], [gy])]), {"g": np.array([-1, 0, 1], np.float32)}))
    for m, feeds in cases:
        data = serialize(m)
        old = tflite_runtime_run(data, feeds)
        if old is None:
            pytest.skip("EDGEPRESS_TFLITE_RUNTIME_PYTHON is not set (tflite-runtime 2.14 environment)")
        new = litert(data, feeds)
        for name, value in new.items():
            np.testing.assert_allclose(old[name], value, rtol=1e-5, atol=1e-5 if value.dtype.kind == "f" else 1)


# -- layout ---------------------------------------------------------------------------------------------

def test_constant_data_is_aligned_and_identical_constants_share_a_buffer():
    r = rng(20)
    x = Tensor("x", (3, 5))
    k1 = Tensor.constant("k1", r.standard_normal((3, 5)).astype(np.float32))
    k2 = Tensor.constant("k2", k1.data.copy())
    k3 = Tensor.constant("k3", np.arange(7, dtype=np.int8))
    y1, y2, y3 = Tensor("y1", (3, 5)), Tensor("y2", (3, 5)), Tensor("y3", (7,), "int8")
    ops = [Op("ADD", [x, k1], [y1]), Op("MUL", [y1, k2], [y2]), Op("NEG", [k3], [y3])]
    data = serialize(model_of([x], [y2, y3], ops))
    m = tflite.Model.GetRootAs(data, 0)
    g = m.Subgraphs(0)
    buffer_of = {g.Tensors(i).Name().decode(): g.Tensors(i).Buffer() for i in range(g.TensorsLength())}
    assert buffer_of["k1"] == buffer_of["k2"] != buffer_of["k3"]
    assert buffer_of["x"] == buffer_of["y1"] == 0 and m.Buffers(0).DataLength() == 0
    for b in range(1, m.BuffersLength()):
        buf = m.Buffers(b)
        start = buf._tab.Vector(buf._tab.Offset(4))
        assert start % 16 == 0, f"buffer {b} starts at {start}"
    xv = r.standard_normal((3, 5)).astype(np.float32)
    np.testing.assert_allclose(litert(data, {"x": xv})["y2"], (xv + k1.data) * k1.data, rtol=TOL)


def test_default_signature_metadata_and_description():
    model, _, _ = conv_relu_model()
    model.metadata = {"labels": b"face\nbackground", "note": "text is stored as utf-8"}
    model.description = "hand-built conv"
    m = tflite.Model.GetRootAs(serialize(model), 0)
    assert m.Version() == 3 and m.Description() == b"hand-built conv"
    s = m.SignatureDefs(0)
    assert m.SignatureDefsLength() == 1 and s.SignatureKey() == b"serving_default" and s.SubgraphIndex() == 0
    assert [s.Inputs(0).Name(), s.Outputs(0).Name()] == [b"x", b"y"]
    meta = {m.Metadata(i).Name().decode(): m.Buffers(m.Metadata(i).Buffer()).DataAsNumpy().tobytes()
            for i in range(m.MetadataLength())}
    assert meta["labels"] == b"face\nbackground" and meta["note"] == "text is stored as utf-8".encode()
    assert meta["producer"] == f"edgepress {edgepress.__version__}".encode()
    assert meta["min_runtime_version"] == b"1.5.0".ljust(16, b"\0")  # CONV_2D v1 and RELU v1: TFLite 1.5


def test_explicit_signatures_are_written_as_given():
    model, _, _ = conv_relu_model()
    g = model.graph
    model.signatures = [Signature("detect", 0, {"image": g.inputs[0]}, {"scores": g.outputs[0]})]
    xv = rng(21).standard_normal((1, 9, 9, 3)).astype(np.float32)
    from ai_edge_litert.interpreter import Interpreter
    interp = Interpreter(model_content=serialize(model))
    assert interp.get_signature_list() == {"detect": {"inputs": ["image"], "outputs": ["scores"]}}
    expected = litert(serialize(model_of(g.inputs, g.outputs, g.ops)), {"x": xv})["y"]
    np.testing.assert_array_equal(interp.get_signature_runner("detect")(image=xv)["scores"], expected)


# -- determinism and atomic writes ----------------------------------------------------------------------

def test_output_is_deterministic():
    a, _, _ = conv_relu_model(seed=3)
    b, _, _ = conv_relu_model(seed=3)
    a.metadata = {"a": b"1", "b": b"2"}
    b.metadata = {"b": b"2", "a": b"1"}
    first = serialize(a)
    assert serialize(a) == first
    assert serialize(b) == first
    assert serialize(read_tflite(first)) == first


def test_write_is_atomic(tmp_path):
    model, _, _ = conv_relu_model()
    path = tmp_path / "model.tflite"
    size = write_tflite(model, path)
    assert size == os.path.getsize(path) and path.read_bytes() == serialize(model)
    before = path.read_bytes()
    model.graph.ops[0].options["no_such_option"] = 1
    with pytest.raises(EdgepressError, match="no_such_option"):
        write_tflite(model, path)
    assert path.read_bytes() == before
    with pytest.raises(EdgepressError, match="no_such_option"):
        write_tflite(model, tmp_path / "new.tflite")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.tflite"]


def test_inconsistent_constants_are_errors_not_files():
    x, y = Tensor("x", (4,)), Tensor("y", (4,))
    k = Tensor.constant("k", np.ones(3, np.float32))
    k.shape = (4,)
    with pytest.raises(EdgepressError, match="'k'.*does not fit"):
        serialize(model_of([x], [y], [Op("ADD", [x, k], [y])]))
    k2 = Tensor.constant("k2", np.ones(4, np.float32))
    k2.dtype = "int32"
    with pytest.raises(EdgepressError, match="'k2'.*float32"):
        serialize(model_of([x], [y], [Op("ADD", [x, k2], [y])]))
    with pytest.raises(EdgepressError, match="unknown TFLite builtin operator 'NOT_AN_OP'"):
        Op("NOT_AN_OP", [x], [y])


def test_external_buffers_past_the_flatbuffer():
    """Models past 2 GB keep constants after the flatbuffer (Buffer.offset/size); forced here on a small one."""
    model, w, b = conv_relu_model()
    data = serialize(model, external=True)
    m = tflite.Model.GetRootAs(data, 0)
    offsets = [m.Buffers(i).Offset() for i in range(m.BuffersLength()) if m.Buffers(i).Size()]
    assert offsets and all(o % 16 == 0 and o > 1 for o in offsets)
    assert data[offsets[0]:offsets[0] + w.nbytes] == w.tobytes()
    x = rng(22).standard_normal((1, 9, 9, 3)).astype(np.float32)
    np.testing.assert_array_equal(litert(data, {"x": x})["y"], litert(serialize(model), {"x": x})["y"])
    back = read_tflite(data)
    np.testing.assert_array_equal(back.graph.ops[0].inputs[1].data, w)
    assert serialize(back, external=True) == data


# -- scale ----------------------------------------------------------------------------------------------

def resnet_sized_model(mb: float = 100) -> Model:
    """A chain of 3x3x512x512 convolutions holding about `mb` megabytes of float32 weights."""
    r = rng(23)
    h = x = Tensor("x", (1, 7, 7, 512))
    ops = []
    for i in range(round(mb * 1e6 / (512 * 9 * 512 * 4))):
        w = Tensor.constant(f"w{i}", r.standard_normal((512, 3, 3, 512), dtype=np.float32))
        b = Tensor.constant(f"b{i}", r.standard_normal(512, dtype=np.float32))
        y = Tensor(f"y{i}", (1, 7, 7, 512))
        ops.append(Op("CONV_2D", [h, w, b], [y], {"padding": "SAME", "stride_w": 1, "stride_h": 1}))
        h = y
    return model_of([x], [h], ops)


@pytest.mark.slow
def test_100mb_model_serializes_fast_and_lean(tmp_path):
    model = resnet_sized_model()
    weights = sum(t.nbytes for t in model.graph.tensors())
    tracemalloc.start()
    start = time.perf_counter()
    size = write_tflite(model, tmp_path / "big.tflite")
    write_s = time.perf_counter() - start
    write_peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.reset_peak()
    start = time.perf_counter()
    data = serialize(model)
    serialize_s = time.perf_counter() - start
    serialize_peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    print(f"\n{weights / 1e6:.1f} MB weights -> {size / 1e6:.1f} MB file: write_tflite {write_s:.2f} s "
          f"(peak {write_peak / weights:.2f}x weights), serialize {serialize_s:.2f} s "
          f"(peak {serialize_peak / weights:.2f}x weights: builder + returned bytes)")
    assert weights < size < weights * 1.001
    assert write_s < 8 and serialize_s < 8
    assert write_peak < 1.2 * weights
    assert serialize_peak < 2.2 * weights
    assert len(data) == size
