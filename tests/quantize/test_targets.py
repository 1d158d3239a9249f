"""--target: xnnpack (the default) writes full-integer models litert's XNNPACK delegate runs whole — HARD_SWISH
rewritten as ADD/MUL (decompose.py), SOFTMAX float, a MINIMUM bound folded into its input's grid — while builtin
keeps TFLite's own int8 ops; int16x8 rewrites HARD_SWISH either way (TFLite has no int16 kernel for it)."""
from collections import Counter

import numpy as np
import onnx
import pytest

from edgepress.quantize import quantize
from edgepress.quantize.decompose import decompose

from qmodels import Net, loaded
from test_litert_delegation import partitions


def mobilenet_v3_block(seed: int = 4) -> onnx.ModelProto:
    """conv + HardSwish, depthwise + HardSwish + scalar affine, squeeze-excitation (pool, conv, relu, conv,
    HardSigmoid, mul), 1x1 conv, pool, gemm, softmax: the ops MobileNetV3-style models (PP-OCR cls and det)
    are made of."""
    n = Net(seed)
    h = n.node("HardSwish", [n.conv("image", 3, 16, "stem", stride=2)], "hs1")
    h = n.node("HardSwish", [n.conv(h, 16, 16, "dw", group=16)], "hs2")
    h = n.node("Add", [n.node("Mul", [h, n.const(np.float32(0.8))], "affine_scale"), n.const(np.float32(0.1))],
               "affine_bias")  # PP-LCNetV3's learnable affine block
    s = n.node("GlobalAveragePool", [h], "se_pool")
    s = n.node("Relu", [n.conv(s, 16, 8, "se_reduce", k=1)], "se_relu")
    s = n.node("HardSigmoid", [n.conv(s, 8, 16, "se_expand", k=1)], "se_gate", alpha=2.0, beta=0.5)  # often > 1
    h = n.node("Mul", [h, s], "se_scale")
    h = n.conv(h, 16, 24, "project", k=1)
    f = n.node("Flatten", [n.node("GlobalAveragePool", [h], "pool")], "flatten")
    y = n.node("Gemm", [f, n.weight((5, 24)), n.const(np.zeros(5, np.float32))], "fc", transB=1)
    n.node("Softmax", [y], "prob", axis=1)
    return n.model({"image": [1, 3, 32, 32]}, ["prob"])


@pytest.fixture(scope="module")
def block(tmp_path_factory):
    return loaded(mobilenet_v3_block(), tmp_path_factory.mktemp("m"), "block")


def litert_max_error(qmodel, ir, feeds: list) -> float:
    from ai_edge_litert.interpreter import Interpreter
    runner = Interpreter(model_content=qmodel.to_bytes(), num_threads=1).get_signature_runner("serving_default")
    return max(float(np.max(np.abs(next(iter(runner(**f).values())) - next(iter(ir.run(f).values())))))
               for f in feeds)


def test_hard_swish_rewrite_is_exact_in_float(block):
    """hs1's 1/6 moves into the depthwise conv's weights, hs2's into the scalar MUL after it: 2 MULs and
    the affine MUL fewer than 3 ops per HARD_SWISH."""
    ir, _, held_out = block
    rewritten = decompose(ir, frozenset({"HARD_SWISH"}), lambda op: False)
    before, after = Counter(op.type for op in ir.ops()), Counter(op.type for op in rewritten.ops())
    assert before["HARD_SWISH"] == 2 and "HARD_SWISH" not in after
    assert after["ADD"] == before["ADD"] + 2 and after["MUL"] == before["MUL"] + 2
    for feeds in held_out:
        want, got = ir.run(feeds, keep_intermediates=True), rewritten.run(feeds, keep_intermediates=True)
        common = (set(want) & set(got)) - {t.name for t in ir.graph.inputs}
        assert {"dw/depthwise_conv_2d", "affine_scale", "se_pool", "prob"} <= common  # after each rewrite
        for name in common:
            np.testing.assert_allclose(got[name], want[name], rtol=1e-5, atol=1e-5, err_msg=name)


def test_hard_swish_rewrite_keeps_a_kept_reader(block):
    ir, _, _ = block
    rewritten = decompose(ir, frozenset({"HARD_SWISH"}), lambda op: "affine_scale" in op.sources)
    kept = [op for op in rewritten.ops() if "affine_scale" in op.sources]
    assert [op.type for op in kept] == ["MUL"] and kept[0].inputs[0].name == "hs2"


def test_xnnpack_target_runs_whole_in_one_partition(block):
    ir, calibration, held_out = block
    qmodel, report = quantize(ir, "int8", calibration=calibration, report_samples=0)
    types = Counter(op.type for op in qmodel.ops())
    assert not {"HARD_SWISH", "MINIMUM"} & set(types)
    assert [(k.op_type, k.chosen) for k in report.kept_float] == [("SOFTMAX", True)]
    softmax = next(op for op in qmodel.ops() if op.type == "SOFTMAX")
    assert softmax.outputs[0].dtype == "float32"
    assert partitions(qmodel.to_bytes()) == 1
    assert litert_max_error(qmodel, ir, held_out) < 0.02  # probabilities


def test_builtin_target_keeps_tflite_int8_ops(block):
    ir, calibration, held_out = block
    qmodel, report = quantize(ir, "int8", calibration=calibration, report_samples=0, target="builtin")
    types = Counter(op.type for op in qmodel.ops())
    assert types["HARD_SWISH"] == 2 and not report.kept_float
    softmax = next(op for op in qmodel.ops() if op.type == "SOFTMAX")
    assert softmax.outputs[0].dtype == "int8"
    assert partitions(qmodel.to_bytes()) > 1  # XNNPACK leaves the int8 HARD_SWISH and SOFTMAX to builtin kernels
    assert litert_max_error(qmodel, ir, held_out) < 0.02


def test_minimum_bound_becomes_the_grid_top(block):
    """HardSigmoid lowers to a conv with a fused RELU and MINIMUM(., 1): the conv's int8 grid ends on 1.0 exactly,
    so its saturation clamps and the MINIMUM is gone, although the conv's own outputs reach far above 1."""
    ir, calibration, _ = block
    minimum = next(op for op in ir.ops() if op.type == "MINIMUM")
    assert max(float(ir.run(f, keep_intermediates=True)[minimum.inputs[0].name].max()) for f in calibration) > 2
    for target in ("xnnpack", "builtin"):
        qmodel, _ = quantize(ir, "int8", calibration=calibration, report_samples=0, target=target)
        assert "MINIMUM" not in {op.type for op in qmodel.ops()}
        gate = next(op for op in qmodel.ops() if "se_gate" in op.sources and op.type == "CONV_2D").outputs[0]
        q = gate.quant
        assert float(q.scale[0]) * (127 - int(q.zero_point[0])) == pytest.approx(1.0, rel=1e-6)
        assert float(q.scale[0]) * (-128 - int(q.zero_point[0])) == pytest.approx(0.0, abs=1e-7)


def test_int16x8_has_no_float_hard_swish(block):
    ir, calibration, held_out = block
    qmodel, report = quantize(ir, "int16x8", calibration=calibration, report_samples=0)
    assert not report.kept_float and "HARD_SWISH" not in {op.type for op in qmodel.ops()}
    float_hard_swish, _ = quantize(ir, "int16x8", calibration=calibration, report_samples=0, keep_float=["HARD_SWISH"])
    assert litert_max_error(qmodel, ir, held_out) <= 1.1 * litert_max_error(float_hard_swish, ir, held_out)


def test_target_is_checked(block):
    from edgepress.errors import UsageError
    ir, calibration, _ = block
    with pytest.raises(UsageError, match="--target gpu"):
        quantize(ir, "int8", calibration=calibration, target="gpu")
