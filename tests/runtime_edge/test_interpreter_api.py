"""edgepress.runtime_edge.Interpreter against ai-edge-litert's Interpreter on small generated models: same
outputs, same detail dicts, same errors for the same misuse."""
import numpy as np
import pytest
from ai_edge_litert.interpreter import Interpreter as LiteRT
from edge_build import Model, Op, T, add_options, build

from edgepress.runtime_edge import Interpreter

RELU = 1


def add_model(a_shape=(2, 1, 3), b_shape=(4, 1), out_shape=(2, 4, 3), activation=RELU, signature=True,
              a_signature=None):
    """out = relu(a + b) with broadcasting, plus an unused per-axis quantized int8 constant (for details)."""
    q = T("q", (3, 2), np.int8, data=np.arange(6, dtype=np.int8).reshape(3, 2), scales=[0.5, 0.25, 0.125],
          zero_points=[0, 0, 0], axis=0)
    p = T("p", (4,), np.int8, data=np.arange(4, dtype=np.int8), scales=[0.1], zero_points=[3])
    tensors = [T("a", a_shape, signature=a_signature), T("b", b_shape), T("out", out_shape), q, p]
    sigs = {"serving_default": ({"x": 0, "y": 1}, {"z": 2})} if signature else {}
    return build(Model(tensors, [Op("ADD", [0, 1], [2], **add_options(activation))], [0, 1], [2], sigs))


def feeds(seed=0, a_shape=(2, 1, 3), b_shape=(4, 1)):
    rng = np.random.default_rng(seed)
    return rng.standard_normal(a_shape).astype(np.float32), rng.standard_normal(b_shape).astype(np.float32)


def run(cls, content, a, b, **kwargs):
    it = cls(model_content=content, **kwargs)
    it.allocate_tensors()
    it.set_tensor(0, a)
    it.set_tensor(1, b)
    it.invoke()
    return it.get_tensor(2)


def assert_same(ours, theirs, where="details"):
    """Equal values and types, recursing through dicts, lists and tuples; arrays also match in dtype."""
    if isinstance(theirs, dict):
        assert isinstance(ours, dict) and list(ours) == list(theirs), where
        for key in theirs:
            assert_same(ours[key], theirs[key], f"{where}[{key!r}]")
    elif isinstance(theirs, (list, tuple)):
        assert type(ours) is type(theirs) and len(ours) == len(theirs), where
        for i, (o, t) in enumerate(zip(ours, theirs)):
            assert_same(o, t, f"{where}[{i}]")
    elif isinstance(theirs, np.ndarray):
        assert isinstance(ours, np.ndarray) and ours.dtype == theirs.dtype, where
        np.testing.assert_array_equal(ours, theirs, err_msg=where)
    else:
        assert type(ours) is type(theirs) and ours == theirs, (where, ours, theirs)


def assert_details_equal(ours, theirs):
    assert_same(ours, theirs, f"tensor {theirs['index']}")


@pytest.mark.parametrize("activation", [0, RELU, 2, 3])
def test_add_matches_litert(activation):
    content = add_model(activation=activation)
    a, b = feeds()
    np.testing.assert_array_equal(run(Interpreter, content, a, b), run(LiteRT, content, a, b))


@pytest.mark.parametrize("threads", [1, 2])
def test_add_same_shape_large_threads(threads):
    shape = (3, 50, 40)
    content = build(Model([T("a", shape), T("b", shape), T("out", shape)],
                          [Op("ADD", [0, 1], [2], **add_options())], [0, 1], [2]))
    a, b = feeds(1, shape, shape)
    np.testing.assert_array_equal(run(Interpreter, content, a, b, num_threads=threads), a + b)


def test_set_tensor_accepts_non_contiguous_views():
    """A transposed view is copied in logical order (regression: the contiguous copy was freed before the
    copy into the tensor read it, so large views came out as garbage)."""
    shape = (64, 48, 32)
    content = build(Model([T("a", shape), T("b", shape), T("out", shape)],
                          [Op("ADD", [0, 1], [2], **add_options())], [0, 1], [2]))
    base = np.random.default_rng(5).standard_normal((32, 48, 64)).astype(np.float32)
    a, b = base.T, np.ones(shape, np.float32)
    assert not a.flags["C_CONTIGUOUS"]
    for _ in range(3):
        np.testing.assert_array_equal(run(Interpreter, content, a, b), a + b)


def test_details_match_litert():
    content = add_model()
    ours, theirs = Interpreter(model_content=content), LiteRT(model_content=content)
    for fn in ("get_input_details", "get_output_details", "get_tensor_details"):
        o, t = getattr(ours, fn)(), getattr(theirs, fn)()
        assert len(o) == len(t), fn
        for x, y in zip(o, t):
            assert_details_equal(x, y)
    quantized = ours.get_tensor_details()[3]["quantization_parameters"]
    np.testing.assert_allclose(quantized["scales"], [0.5, 0.25, 0.125])


def test_signatures_match_litert():
    content = add_model()
    a, b = feeds(2)
    ours, theirs = Interpreter(model_content=content), LiteRT(model_content=content)
    assert ours.get_signature_list() == theirs.get_signature_list() == {
        "serving_default": {"inputs": ["x", "y"], "outputs": ["z"]}}
    got, want = ours.get_signature_runner()(x=a, y=b), theirs.get_signature_runner()(x=a, y=b)
    assert list(got) == ["z"]
    np.testing.assert_array_equal(got["z"], want["z"])
    runner = ours.get_signature_runner("serving_default")
    for name, details in runner.get_input_details().items():
        assert_details_equal(details, theirs.get_signature_runner().get_input_details()[name])
    with pytest.raises(ValueError, match="Invalid number of inputs"):
        runner(x=a)
    with pytest.raises(ValueError, match=r"Invalid Input name \(w\)"):
        runner(x=a, w=b)
    with pytest.raises(ValueError, match="Invalid signature_key"):
        ours.get_signature_runner("nope")


def test_no_signature_runner_without_key():
    ours = Interpreter(model_content=add_model(signature=False))
    assert ours.get_signature_list() == {}
    with pytest.raises(ValueError, match="model has 0 Signatures"):
        ours.get_signature_runner()


def error_of(fn):
    try:
        fn()
    except Exception as e:  # noqa: BLE001 - we compare whatever each runtime raises
        return type(e), str(e)
    return None, None


@pytest.mark.parametrize("value", [
    np.zeros((2, 1, 3), np.float64), np.zeros((2, 1, 3), np.int32), [[1.0]], "abc",
    np.zeros((2, 3), np.float32), np.zeros((2, 2, 3), np.float32), np.zeros((2, 1, 3, 1), np.float32)])
def test_set_tensor_errors_match_litert(value):
    content = add_model()
    ours, theirs = Interpreter(model_content=content), LiteRT(model_content=content)
    ours.allocate_tensors()
    theirs.allocate_tensors()
    got, want = error_of(lambda: ours.set_tensor(0, value)), error_of(lambda: theirs.set_tensor(0, value))
    assert got == want
    assert got[0] is ValueError


def test_index_and_state_errors_match_litert():
    content = add_model()
    ours, theirs = Interpreter(model_content=content), LiteRT(model_content=content)
    for call in (lambda it: it.get_tensor(99), lambda it: it.get_tensor(-1), lambda it: it.get_tensor(0),
                 lambda it: it.set_tensor(0, np.zeros((2, 1, 3), np.float32)), lambda it: it.invoke(),
                 lambda it: it.resize_tensor_input(0, [[1]])):
        assert error_of(lambda: call(ours)) == error_of(lambda: call(theirs))


def test_constructor_errors():
    with pytest.raises(ValueError, match="must be specified"):
        Interpreter()
    with pytest.raises(ValueError, match="Can't both provide"):
        Interpreter(model_path="x.tflite", model_content=b"x")
    with pytest.raises(ValueError, match="num_threads should >= 1"):
        Interpreter(model_content=add_model(), num_threads=0)
    with pytest.raises(ValueError, match="type of num_threads should be int"):
        Interpreter(model_content=add_model(), num_threads=1.5)
    with pytest.raises(ValueError, match="cannot open model file"):
        Interpreter(model_path="/nonexistent/model.tflite")


def test_unsupported_op_names_type_and_index():
    shape = (2, 3)
    content = build(Model([T("a", shape), T("b", shape), T("c", shape), T("d", shape)],
                          [Op("ADD", [0, 1], [2], **add_options()), Op("LSH_PROJECTION", [2, 1], [3])],
                          [0, 1], [3]))
    with pytest.raises(ValueError, match=r"unsupported op LSH_PROJECTION \(op 1\) with FLOAT32 input"):
        Interpreter(model_content=content)


def test_model_path_and_content_kinds(tmp_path):
    content = add_model()
    path = tmp_path / "add.tflite"
    path.write_bytes(content)
    a, b = feeds(3)
    want = run(LiteRT, content, a, b)
    for kwargs in ({"model_path": str(path)}, {"model_path": path}, {"model_content": bytearray(content)},
                   {"model_content": content, "experimental_delegates": [], "experimental_op_resolver_type": None}):
        it = Interpreter(**kwargs)
        it.allocate_tensors()
        it.set_tensor(0, a)
        it.set_tensor(1, b)
        it.invoke()
        np.testing.assert_array_equal(it.get_tensor(2), want)


def test_resize_then_reallocate():
    content = add_model(a_shape=(1, 1, 3), a_signature=(-1, 1, 3), out_shape=(1, 4, 3))
    ours, theirs = Interpreter(model_content=content), LiteRT(model_content=content)
    a, b = feeds(4, (5, 1, 3))
    outs = []
    for it in (ours, theirs):
        it.resize_tensor_input(0, [5, 1, 3], strict=True)
        it.allocate_tensors()
        it.set_tensor(0, a)
        it.set_tensor(1, b)
        it.invoke()
        outs.append(it.get_tensor(2))
        assert list(it.get_output_details()[0]["shape"]) == [5, 4, 3]
        assert list(it.get_input_details()[0]["shape_signature"]) == [-1, 1, 3]
    np.testing.assert_array_equal(outs[0], outs[1])
    with pytest.raises(RuntimeError, match="ResizeInputTensorStrict only allows mutating unknown dimensions"):
        ours.resize_tensor_input(0, [5, 2, 3], strict=True)
    with pytest.raises(ValueError):
        ours.resize_tensor_input(2, [5, 4, 3])


def test_tensor_view_and_reallocation_guard():
    content = add_model()
    it = Interpreter(model_content=content)
    it.allocate_tensors()
    a, b = feeds(5)
    it.tensor(0)()[...] = a
    it.tensor(1)()[...] = b
    it.invoke()
    np.testing.assert_array_equal(it.tensor(2)(), np.maximum(a + b, 0))
    assert not it.tensor(3)().flags.writeable  # constants are read-only model data
    view = it.tensor(2)()
    with pytest.raises(RuntimeError, match="at least 1 reference to internal data"):
        it.allocate_tensors()
    del view
    it.allocate_tensors()
    with pytest.raises(ValueError, match="read-only"):
        it.set_tensor(3, np.zeros((3, 2), np.int8))


def test_preserve_all_tensors_keeps_intermediates():
    shape = (4, 5)
    content = build(Model([T("a", shape), T("b", shape), T("c", shape), T("d", shape), T("e", shape)],
                          [Op("ADD", [0, 1], [2], **add_options()), Op("ADD", [2, 2], [3], **add_options()),
                           Op("ADD", [3, 3], [4], **add_options())], [0, 1], [4]))
    a, b = feeds(6, shape, shape)
    for preserve in (False, True):
        it = Interpreter(model_content=content, experimental_preserve_all_tensors=preserve)
        it.allocate_tensors()
        plan = it.memory_plan()
        it.set_tensor(0, a)
        it.set_tensor(1, b)
        it.invoke()
        np.testing.assert_allclose(it.get_tensor(4), 4 * (a + b), rtol=1e-6)
        if preserve:
            np.testing.assert_allclose(it.get_tensor(2), a + b, rtol=1e-6)
            assert plan["arena_bytes"] == plan["naive_bytes"] == 5 * 128
        else:
            # c dies when e is written, so c and e share bytes: 4 live buffers of 128 bytes, not 5.
            assert (plan["arena_bytes"], plan["naive_bytes"]) == (4 * 128, 5 * 128)


def test_profile_lists_every_op():
    it = Interpreter(model_content=add_model())
    it.allocate_tensors()
    it.invoke()
    rows = it.profile()
    assert [(r["index"], r["op"], r["name"]) for r in rows] == [(0, "ADD", "out")]
    assert rows[0]["ms"] >= 0


def test_constant_subgraph_is_folded_at_allocate():
    """c = k1 + k2 depends on constants only: computed once at allocate, kept out of the arena, not re-run."""
    shape = (8, 16)
    rng = np.random.default_rng(8)
    k1, k2 = rng.standard_normal(shape).astype(np.float32), rng.standard_normal(shape).astype(np.float32)
    content = build(Model([T("k1", shape, data=k1), T("k2", shape, data=k2), T("c", shape), T("x", shape),
                           T("out", shape)],
                          [Op("ADD", [0, 1], [2], **add_options()), Op("ADD", [2, 3], [4], **add_options())],
                          [3], [4]))
    x = rng.standard_normal(shape).astype(np.float32)
    want = run_single(LiteRT, content, x)
    ours = Interpreter(model_content=content)
    np.testing.assert_array_equal(run_single(ours, content, x), want)
    plan = ours.memory_plan()
    assert (plan["arena_bytes"], plan["naive_bytes"]) == (2 * 512, 2 * 512)  # x and out only
    assert plan["persistent_bytes"] >= 512
    assert [r["ms"] for r in ours.profile()][0] == 0
    np.testing.assert_array_equal(ours.get_tensor(2), k1 + k2)


def run_single(cls_or_interp, content, x):
    it = cls_or_interp(model_content=content) if isinstance(cls_or_interp, type) else cls_or_interp
    it.allocate_tensors()
    it.set_tensor(it.get_input_details()[0]["index"], x)
    it.invoke()
    return it.get_tensor(it.get_output_details()[0]["index"])


def test_reallocating_unchanged_shapes_keeps_input_data_like_litert():
    content = add_model()
    a, _ = feeds(9)
    kept = []
    for cls in (Interpreter, LiteRT):
        it = cls(model_content=content)
        it.allocate_tensors()
        it.set_tensor(0, a)
        it.allocate_tensors()
        it.resize_tensor_input(0, [2, 1, 3])
        it.allocate_tensors()
        kept.append(it.get_tensor(0))
    np.testing.assert_array_equal(kept[0], kept[1])
    np.testing.assert_array_equal(kept[0], a)
