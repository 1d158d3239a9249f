"""The writer stores identical shapes, quantization parameters and builtin options once and points every
tensor or operator that repeats them at the one copy; the files run in ai-edge-litert (and tflite-runtime
where set up) with the results NumPy computes here, and read back to the same parameters."""
import numpy as np
import tflite
from engines import litert_run, tflite_runtime_run

from edgepress.convert.ir import Graph, Model, Op, QuantParams, Tensor
from edgepress.convert.tflite.reader import read_tflite
from edgepress.convert.tflite.writer import serialize


def qtensor(name, shape, scale, zero, dtype="int8"):
    t = Tensor(name, shape, dtype)
    t.quant = QuantParams(scale, zero)
    return t


def int8_chain():
    """int8 x -> RESHAPE -> MAX_POOL_2D -> RESHAPE: each output keeps its input's parameters; a requantizing
    QUANTIZE writes new ones. Two MAX_POOL_2D ops with equal options, one with other options."""
    q = (np.float32(0.05), -3)
    x, a, b, c, d = (qtensor(n, s, *q) for n, s in (("x", (1, 4, 4, 2)), ("a", (1, 4, 4, 2)), ("b", (1, 4, 4, 2)),
                                                     ("c", (1, 2, 2, 2)), ("d", (1, 4, 4, 2))))
    e, y = qtensor("e", (1, 2, 2, 2), *q), qtensor("y", (1, 2, 2, 2), np.float32(0.1), 7)
    pool = {"padding": "SAME", "stride_w": 1, "stride_h": 1, "filter_width": 2, "filter_height": 2}
    ops = [Op("RESHAPE", [x], [a], {"new_shape": [1, 4, 4, 2]}),
           Op("MAX_POOL_2D", [a], [b], pool),
           Op("MAX_POOL_2D", [b], [d], pool),
           Op("MAX_POOL_2D", [d], [c], {**pool, "stride_w": 2, "stride_h": 2}),
           Op("RESHAPE", [c], [e], {"new_shape": [1, 2, 2, 2]}),
           Op("QUANTIZE", [e], [y])]
    return Model(graphs=[Graph(inputs=[x], outputs=[y], ops=ops)])


def pool_max(x, stride):
    """2x2 max pool, SAME padding (extra row/column at the end)."""
    p = np.pad(x, ((0, 0), (0, 1), (0, 1), (0, 0)), constant_values=np.iinfo(x.dtype).min)
    out = np.maximum.reduce([p[:, i:i + 4, j:j + 4] for i in (0, 1) for j in (0, 1)])
    return out[:, ::stride, ::stride]


def tables(data):
    g = tflite.Model.GetRootAs(data, 0).Subgraphs(0)
    tensors = {g.Tensors(i).Name().decode(): g.Tensors(i) for i in range(g.TensorsLength())}
    ops = [g.Operators(i) for i in range(g.OperatorsLength())]
    return tensors, ops


def shape_position(t):
    return t._tab.Vector(t._tab.Offset(4))


def test_repeated_parameters_shapes_and_options_are_stored_once():
    data = serialize(int8_chain())
    tensors, ops = tables(data)
    quant = {name: t.Quantization()._tab.Pos for name, t in tensors.items()}
    assert len({quant[n] for n in "xabcde"}) == 1 and quant["y"] != quant["x"]
    assert len({shape_position(tensors[n]) for n in "xabd"}) == 1
    assert len({shape_position(tensors[n]) for n in "ceyx"}) == 2
    pools = [op.BuiltinOptions().Pos for op in ops[1:4]]
    assert pools[0] == pools[1] != pools[2]
    for name, t in tensors.items():
        q = t.Quantization()
        assert q.MinLength() == q.MaxLength() == 0, name


def test_shared_tables_run_and_read_back():
    model = int8_chain()
    data = serialize(model)
    xv = np.random.default_rng(0).integers(-128, 128, (1, 4, 4, 2)).astype(np.int8)
    inner = pool_max(pool_max(pool_max(xv, 1), 1), 2).astype(np.float64)
    want = np.clip(np.round((inner + 3) * 0.05 / 0.1) + 7, -128, 127)
    for run in (litert_run, tflite_runtime_run):
        got = run(data, {"x": xv})
        if got is not None:
            assert np.max(np.abs(got["y"].astype(np.int64) - want)) <= 1, run.__name__
    back = {t.name: t for t in read_tflite(data).graph.tensors()}
    for t in model.graph.tensors():
        np.testing.assert_array_equal(back[t.name].quant.scale, t.quant.scale)
        np.testing.assert_array_equal(back[t.name].quant.zero_point, t.quant.zero_point)
        assert tuple(back[t.name].shape) == tuple(t.shape)


def test_sharing_leaves_distinct_values_apart():
    """Equal bytes, different meaning: a per-axis vector along another axis, and min/max a source carried,
    are written as they are."""
    w1 = Tensor.constant("w1", np.ones((2, 1, 1, 2), np.int8))
    w1.quant = QuantParams(np.float32([0.5, 0.25]), np.zeros(2), axis=0)
    w2 = Tensor.constant("w2", np.full((2, 1, 1, 2), 2, np.int8))
    w2.quant = QuantParams(np.float32([0.5, 0.25]), np.zeros(2), axis=3)
    w3 = Tensor.constant("w3", np.full((2, 1, 1, 2), 3, np.int8))
    w3.quant = QuantParams(np.float32([0.5, 0.25]), np.zeros(2), axis=0, min=np.float32([-1]), max=np.float32([1]))
    outs = [Tensor(f"f{i}", (2, 1, 1, 2)) for i in (1, 2, 3)]
    ops = [Op("DEQUANTIZE", [w], [f]) for w, f in zip((w1, w2, w3), outs)]
    a, s1, s2, y = (Tensor(n, (2, 1, 1, 2)) for n in ("a", "s1", "s2", "y"))
    ops += [Op("ADD", [a, outs[0]], [s1]), Op("ADD", [s1, outs[1]], [s2]), Op("ADD", [s2, outs[2]], [y])]
    data = serialize(Model(graphs=[Graph(inputs=[a], outputs=[y], ops=ops)]))
    tensors, _ = tables(data)
    positions = {n: tensors[n].Quantization()._tab.Pos for n in ("w1", "w2", "w3")}
    assert len(set(positions.values())) == 3
    assert tensors["w2"].Quantization().QuantizedDimension() == 3
    assert tensors["w3"].Quantization().MinAsNumpy().tolist() == [-1.0]
    av = np.random.default_rng(1).standard_normal((2, 1, 1, 2)).astype(np.float32)
    scales = np.float32([0.5, 0.25])
    want = av + 4 * scales[:, None, None, None] + 2 * scales[None, None, None, :]
    for run in (litert_run, tflite_runtime_run):
        got = run(data, {"a": av})
        if got is not None:
            np.testing.assert_allclose(got["y"], want, rtol=1e-6, err_msg=run.__name__)
