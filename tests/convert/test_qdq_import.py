"""QuantizeLinear/DequantizeLinear through the importer (convert/onnx/lower_quant.py), on small QDQ graphs built
here: weights behind DequantizeLinear convert exactly (onnxruntime vs ai-edge-litert vs the reference evaluator,
the float tolerance of onnx_harness); activation pairs vanish from a float conversion but leave their ranges,
with which int8 quantization (no calibration data) lands within one step of onnxruntime's run of the QDQ model.

onnxruntime runs the QDQ models with graph optimizations off, i.e. each QuantizeLinear and DequantizeLinear as
the spec defines it, rather than its fused integer kernels.
"""
import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import helper

from edgepress.convert.onnx.importer import import_onnx
from edgepress.convert.passes import optimize
from edgepress.errors import ConversionError
from edgepress.quantize import quantize
from edgepress.quantize.qdq import source_ranges
from engines import litert_run
from onnx_build import In, graph_model
from onnx_harness import check_onnx_model

LIMITS = {"int8": (-128, 127), "uint8": (0, 255)}
OUT_SCALE = 6 / 255  # conv_net's output step


def ort_qdq_run(model: onnx.ModelProto, feeds: dict) -> dict:
    opts = ort.SessionOptions()
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    sess = ort.InferenceSession(model.SerializeToString(), opts, providers=["CPUExecutionProvider"])
    names = [o.name for o in sess.get_outputs()]
    return dict(zip(names, sess.run(names, feeds)))


class Builder:
    """Nodes and initializers of a QDQ graph; names are unique by a counter."""

    def __init__(self, seed=0):
        self.nodes, self.consts, self.n = [], {}, 0
        self.rng = np.random.default_rng(seed)

    def name(self, base):
        self.n += 1
        return f"{base}{self.n}"

    def const(self, value):
        name = self.name("k")
        self.consts[name] = np.asarray(value)
        return name

    def node(self, op_type, inputs, name=None, **attrs):
        name = name or self.name(op_type.lower())
        self.nodes.append(helper.make_node(op_type, inputs, [name], name=name, **attrs))
        return name

    def qdq(self, x, scale, zero, dtype="int8", tag=None):
        """x -> QuantizeLinear -> DequantizeLinear, per tensor."""
        s, z = self.const(np.float32(scale)), self.const(np.array(zero, dtype))
        return self.node("DequantizeLinear", [self.node("QuantizeLinear", [x, s, z], f"{tag}_q" if tag else None), s, z],
                         f"{tag}_dq" if tag else None)

    def weights(self, w, axis=0, dtype="int8", symmetric=True):
        """Integer weights behind DequantizeLinear, per axis (axis not None) or per tensor."""
        lo, hi = LIMITS[dtype]
        amax = np.abs(w).max(axis=tuple(i for i in range(w.ndim) if i != axis)) if axis is not None else np.abs(w).max()
        if symmetric:
            scale, zero = (amax / 127).astype(np.float32), np.zeros(np.shape(amax), dtype)
        else:
            wmin = w.min(axis=tuple(i for i in range(w.ndim) if i != axis)) if axis is not None else w.min()
            scale = ((amax - np.minimum(wmin, 0)) / (hi - lo) + 1e-6).astype(np.float32)
            zero = np.clip(np.rint(lo - np.minimum(wmin, 0) / scale), lo, hi).astype(dtype)
        shape = [1] * w.ndim
        if axis is not None:
            shape[axis] = -1
        q = np.clip(np.rint(w / scale.reshape(shape)) + zero.reshape(shape).astype(np.int64), lo, hi).astype(dtype)
        attrs = {"axis": axis} if axis is not None else {}
        return self.node("DequantizeLinear", [self.const(q), self.const(scale), self.const(zero)], **attrs)


def conv_net(opset=13, act="int8", axis=0, weight_type="int8"):
    """image -> QDQ -> conv (+ bias as int32 behind DequantizeLinear) -> QDQ starting at 0 (a folded ReLU)
    -> depthwise conv -> QDQ -> global average pool -> QDQ: the shape of onnxruntime's QDQ models."""
    b = Builder()
    lo, hi = LIMITS[act]
    zmid = 0 if act == "int8" else 128
    x = b.qdq("image", 4 / 255, zmid, act, tag="image")
    w1 = b.rng.standard_normal((8, 3, 3, 3)).astype(np.float32) * 0.3
    bias = b.node("DequantizeLinear", [b.const(b.rng.integers(-500, 500, 8).astype(np.int32)),
                                       b.const(np.float32(4 / 255 * 0.003))])
    h = b.node("Conv", [x, b.weights(w1, axis, weight_type), bias], "conv1", pads=[1] * 4)
    h = b.qdq(h, 6 / 255, lo, act, tag="relu1")  # zero point at the type's minimum: range [0, 6]
    w2 = b.rng.standard_normal((8, 1, 3, 3)).astype(np.float32) * 0.5
    h = b.node("Conv", [h, b.weights(w2, axis, weight_type)], "dw", pads=[1] * 4, group=8)
    h = b.qdq(h, 20 / 255, zmid, act, tag="dw")
    h = b.node("GlobalAveragePool", [h], "gap")
    b.qdq(h, OUT_SCALE, zmid, act, tag="out")
    return graph_model(b.nodes, {"image": In((1, 3, 8, 8))}, b.consts, ["out_dq"], opset)


def image(seed=0):
    return {"image": np.random.default_rng(seed).uniform(-2, 2, (1, 3, 8, 8)).astype(np.float32)}


def converted(model: onnx.ModelProto):
    return optimize(import_onnx(model))


def source_weights(model: onnx.ModelProto, node: str):
    """(integers, scale) of the DequantizeLinear feeding the weights of `node`."""
    inits = {i.name: onnx.numpy_helper.to_array(i) for i in model.graph.initializer}
    consumer = next(n for n in model.graph.node if n.name == node)
    dq = next(n for n in model.graph.node if n.output[0] == consumer.input[1])
    return inits[dq.input[0]], inits[dq.input[1]]


def steps_apart(ours: np.ndarray, ref: np.ndarray, scale: float) -> float:
    """How many steps of the QDQ model's output grid separate our value, put on that grid, from its value."""
    return float(np.max(np.abs(np.rint(ours / scale) - np.rint(ref / scale))))


# -- weights: exact float conversion ----------------------------------------------------------------------
@pytest.mark.parametrize("opset,axis,dtype,symmetric", [
    (13, 0, "int8", True),  # per axis, as onnxruntime and NNCF write conv weights
    (13, None, "int8", True),  # per tensor
    (13, None, "uint8", False),  # asymmetric: real = (q - zp) * scale
    (10, None, "uint8", False),  # the first opset with QDQ (upgraded to 11 by the importer)
    (21, 0, "int8", True),
])
def test_weights_dequantize_exactly(opset, axis, dtype, symmetric):
    b = Builder()
    w = b.rng.standard_normal((6, 4, 3, 3)).astype(np.float32)
    b.node("Conv", ["x", b.weights(w, axis if opset >= 13 else None, dtype, symmetric)], "y", pads=[1] * 4)
    check_onnx_model(graph_model(b.nodes, {"x": In((1, 4, 6, 6))}, b.consts, ["y"], opset))


@pytest.mark.parametrize("dtype", ["int16", "uint16"])
def test_wide_constant_types_fold(dtype):
    """Opset 21's 16-bit types are fine for constants: they fold to float like int8 ones."""
    b = Builder()
    q = b.rng.integers(0 if dtype == "uint16" else -3000, 3000, (5, 7)).astype(dtype)
    w = b.node("DequantizeLinear", [b.const(q), b.const(np.float32(1e-3)), b.const(np.array(7, dtype))])
    b.node("MatMul", ["x", w], "y")
    check_onnx_model(graph_model(b.nodes, {"x": In((2, 5))}, b.consts, ["y"], 21))


def test_quantize_of_constant_weights_folds():
    """Float weights -> QuantizeLinear -> DequantizeLinear (opset 10/11 QDQ models keep weights so): the
    weights are rounded half to even and saturated as ONNX specifies, then dequantized."""
    b = Builder()
    w = b.rng.standard_normal((4, 5)).astype(np.float32)
    w[0, :3] = [0.25, 0.75, 9.0]  # ties at scale 0.5 round to even; 9.0 saturates at 127 * 0.05
    s, z = b.const(np.float32(0.05)), b.const(np.int8(0))
    deq = b.node("DequantizeLinear", [b.node("QuantizeLinear", [b.const(w), s, z]), s, z])
    b.node("Gemm", ["x", deq], "y", transB=1)
    model = graph_model(b.nodes, {"x": In((3, 5))}, b.consts, ["y"], 11)
    ir = check_onnx_model(model)
    assert [op.type for op in ir.graph.ops] == ["FULLY_CONNECTED"]


# -- activation pairs ------------------------------------------------------------------------------------
@pytest.mark.parametrize("opset", [13, 19, 21])
@pytest.mark.parametrize("act", ["int8", "uint8"])
def test_pairs_leave_ranges_and_float_graph(opset, act):
    model = conv_net(opset, act)
    ir = converted(model)
    assert not {"QUANTIZE", "DEQUANTIZE"} & {op.type for op in ir.graph.ops}
    conv = next(op for op in ir.graph.ops if op.type == "CONV_2D")
    # the range [0, 6] of relu1 comes back as the RELU6 a quantizer folds into it, fused into the conv
    assert conv.options["fused_activation_function"] == "RELU6"
    assert conv.outputs[0].qdq_range == (0.0, 255 * float(np.float32(6 / 255)))
    # every activation has a range: recorded (kept through the passes), or the same values moved (transposes)
    ranges = source_ranges(ir)
    for t in ir.graph.tensors():
        if t.data is None and t.dtype == "float32":
            assert t.name in ranges, f"tensor '{t.name}' has no range"
    # float conversion: the pairs' rounding is gone, so it stays within a few output steps of onnxruntime
    feeds = image()
    ref = ort_qdq_run(model, feeds)["out_dq"]
    got = litert_run(ir.to_bytes(), feeds)["out_dq"]
    assert np.max(np.abs(got - ref)) <= 3 * OUT_SCALE


@pytest.mark.parametrize("opset,act,axis", [(13, "int8", 0), (13, "uint8", 0), (13, "int8", None),
                                            (19, "uint8", None), (21, "int8", 0)])
def test_int8_without_calibration_within_one_step(opset, act, axis):
    model = conv_net(opset, act, axis)
    qmodel, report = quantize(converted(model), "int8")
    data = qmodel.to_bytes()
    worst = 0.0
    for seed in range(6):
        feeds = image(seed)
        worst = max(worst, steps_apart(litert_run(data, feeds)["out_dq"], ort_qdq_run(model, feeds)["out_dq"],
                                       OUT_SCALE))
    assert worst <= 1, f"{worst} steps of {OUT_SCALE:.4g} from onnxruntime"
    assert report.calibration_samples == 0 and not report.kept_float
    # the weights are the source's integers and scales (a per-tensor scale repeated per channel)
    q, scale = source_weights(model, "conv1")
    conv = next(op for op in qmodel.graph.ops if op.type == "CONV_2D")
    np.testing.assert_array_equal(conv.inputs[1].data.transpose(0, 3, 1, 2), q)
    np.testing.assert_array_equal(conv.inputs[1].quant.scale, np.broadcast_to(scale, (q.shape[0],)))


def test_uint8_graph_io_become_dequantize_and_quantize():
    """A uint8 input read by DequantizeLinear and a QuantizeLinear output are TFLite DEQUANTIZE and QUANTIZE;
    TFLite rounds ties away from zero where ONNX rounds them to even, hence one unit at most."""
    b = Builder()
    s, z = b.const(np.float32(0.02)), b.const(np.uint8(100))
    x = b.node("DequantizeLinear", ["pixels", s, z], "x")
    y = b.node("Mul", [x, b.const(np.float32(1.7))], "scaled")
    so, zo = b.const(np.float32(0.05)), b.const(np.uint8(60))
    b.node("QuantizeLinear", [y, so, zo], "q")
    model = graph_model(b.nodes, {"pixels": In((1, 16), "uint8")}, b.consts, ["q"], 13)
    ir = import_onnx(model)
    assert [op.type for op in ir.graph.ops] == ["DEQUANTIZE", "MUL", "QUANTIZE"]
    feeds = {"pixels": np.arange(0, 256, 16, dtype=np.uint8)[None]}
    got = litert_run(ir.to_bytes(), feeds)["q"]
    ref = ort_qdq_run(model, feeds)["q"]
    assert got.dtype == np.uint8
    assert np.max(np.abs(got.astype(int) - ref.astype(int))) <= 1


# -- what is refused, named by node ------------------------------------------------------------------------
def refused(nodes, consts, inputs, outputs, opset, *fragments):
    b_model = graph_model(nodes, inputs, consts, outputs, opset)
    with pytest.raises(ConversionError) as e:
        import_onnx(b_model)
    for f in fragments:
        assert f in str(e.value), str(e.value)


def test_per_axis_activation_quantization_is_refused():
    b = Builder()
    s, z = b.const(np.full(3, 0.1, np.float32)), b.const(np.zeros(3, np.int8))
    b.node("DequantizeLinear", [b.node("QuantizeLinear", ["x", s, z], "q_axis", axis=1), s, z], "y", axis=1)
    refused(b.nodes, b.consts, {"x": In((1, 3, 4))}, ["y"], 13, "q_axis", "per-axis")


def test_int16_activations_are_refused():
    b = Builder()
    s, z = b.const(np.float32(0.01)), b.const(np.int16(0))
    b.node("DequantizeLinear", [b.node("QuantizeLinear", ["x", s, z], "q16"), s, z], "y")
    refused(b.nodes, b.consts, {"x": In((2, 3))}, ["y"], 21, "q16", "int16")


def test_blocked_quantization_is_refused():
    b = Builder()
    q = b.rng.integers(-100, 100, (4, 8)).astype(np.int8)
    b.node("DequantizeLinear", [b.const(q), b.const(np.full((4, 2), 0.1, np.float32)), b.const(np.zeros((4, 2), np.int8))],
           "blocked", axis=1, block_size=4)
    b.node("MatMul", ["x", "blocked"], "y")
    refused(b.nodes, b.consts, {"x": In((2, 4))}, ["y"], 21, "blocked", "block_size")


def test_dequantize_of_unquantized_integers_is_refused():
    b = Builder()
    i8 = b.node("Cast", ["x"], "ints", to=onnx.TensorProto.INT8)
    b.node("DequantizeLinear", [i8, b.const(np.float32(0.1)), b.const(np.int8(0))], "dq_ints")
    refused(b.nodes, b.consts, {"x": In((2, 3))}, ["dq_ints"], 13, "dq_ints", "'ints'")


def test_run_time_scale_is_refused():
    b = Builder()
    b.node("QuantizeLinear", ["x", "s", b.const(np.uint8(0))], "q_dyn")
    refused(b.nodes, b.consts, {"x": In((2, 3)), "s": In(())}, ["q_dyn"], 13, "q_dyn", "scale")
