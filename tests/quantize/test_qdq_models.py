"""QDQ models made by onnxruntime's quantize_static and by nncf.quantize, converted to int8 TFLite with the
scales they carry (no calibration for onnxruntime's, whose pairs cover every tensor), against onnxruntime's run
of the QDQ model on held-out samples. Models: the bundled tiny_cnn (after onnxruntime's quant_pre_process, as
its quantizer asks) and the real PP-OCR cls model.

The step: onnxruntime's models end with a QuantizeLinear/DequantizeLinear pair of step 1/255 here; our output
(SOFTMAX's fixed 1/256 grid) is put on that grid and counted in its steps. NNCF leaves the softmax float: there
the step is our 1/256.
The bars (measured over 64 samples in brackets):
- tiny_cnn from onnxruntime: one step on every sample [1];
- tiny_cnn from NNCF: NNCF_STEPS on every sample [2.1]: NNCF leaves the logits and probabilities float, which
  our int8 FULLY_CONNECTED and SOFTMAX round;
- the deep cls model: the same class on every sample and one step on MOSTLY of them [95%, at most 11 steps
  from onnxruntime's models, 14 from NNCF's]: one logit step moves a probability near 0.5 by about 8 output
  steps, and the rounding differences of two int8 engines grow with depth. onnxruntime's own fused kernels
  differ from its unfused run by up to 5 steps there (16 steps of the logits, as ours).
onnxruntime runs each QDQ model as written (graph optimizations off); its fused integer kernels agree as well
for int8 activations, while its u8s8 kernels saturate on x86 CPUs without VNNI, so uint8 models are compared
with the unfused run only.
"""
import numpy as np
import pytest

from edgepress.convert.onnx.lower_quant import Affine
from edgepress.quantize import quantize
from edgepress.quantize.params import activation_params
from qdqmodels import (CLS_SHAPE, NNCF_STEPS, SOFTMAX_STEP, TINY, assert_agree, int8_params, nncf_quantized,
                       ort_quantized, preprocessed, source_params, steps_apart)
from qtext import line_image


@pytest.mark.parametrize("dtype,offset", [("int8", 0), ("uint8", 128)])
def test_recorded_ranges_give_back_the_source_parameters(dtype, offset):
    """A pair's range ((qmin - zp) * s, (qmax - zp) * s) yields exactly its scale and zero point again (uint8
    ones as int8 with zp - 128), for every zero point and scales across magnitudes."""
    rng = np.random.default_rng(5)
    qmin, qmax = np.iinfo(dtype).min, np.iinfo(dtype).max
    for scale in (rng.uniform(0.5, 2, 16) * 10.0 ** rng.integers(-6, 3, 16)).astype(np.float32):
        for zero in range(qmin, qmax + 1):
            lo, hi = Affine(np.float32(scale), np.int64(zero), dtype, False).real_range()
            q = activation_params(lo, hi, "int8")
            assert (q.scale[0], q.zero_point[0]) == (scale, zero - offset), (scale, zero)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    rng = np.random.default_rng(0)
    feeds = [{"image": rng.uniform(-1, 1, (1, 3, 64, 64)).astype(np.float32)} for _ in range(28)]
    path = preprocessed(TINY, str(tmp_path_factory.mktemp("tiny") / "tiny_pre.onnx"))
    return path, feeds[:8], feeds[8:]


@pytest.fixture(scope="module")
def cls(rapidocr_model_files, tmp_path_factory):
    rng = np.random.default_rng(4)
    feeds = [{"x": line_image(192, 48, rng, rotate=bool(i % 2))} for i in range(28)]
    folder = tmp_path_factory.mktemp("cls")
    src = rapidocr_model_files["ch_ppocr_mobile_v2.0_cls_infer"]
    return src, folder, feeds[:8], feeds[8:]


@pytest.mark.parametrize("per_channel", [False, True])
@pytest.mark.parametrize("activations", ["QInt8", "QUInt8"])
def test_onnxruntime_tiny_cnn(tiny, tmp_path, per_channel, activations):
    src, calibration, held_out = tiny
    qdq = ort_quantized(src, str(tmp_path / "qdq.onnx"), calibration, per_channel, activations)
    qmodel, report = quantize(qdq, "int8")
    data = qmodel.to_bytes()
    assert report.calibration_samples == 0 and not report.kept_float
    # the int8 activations have the source's scale and zero point; three source tensors are no int8 tensors
    # of ours: the hard sigmoid inside HARD_SWISH, the softmax output (TFLite fixes it at 1/256), and the
    # HARD_SWISH output, held as 6 x its value once the 1/6 moved into the next conv's weights (decompose.py)
    # on 6 x the source's step with the source's zero point: the same integers
    expected, ours = source_params(qdq), int8_params(qmodel)
    for name in set(expected) & set(ours):
        assert ours[name] == {expected[name]}, name
    assert len(set(expected) - set(ours)) == 3
    ((scale, zero),) = ours["block.act/times6"]
    assert scale == pytest.approx(6 * expected["block.act"][0], rel=1e-6) and zero == expected["block.act"][1]
    assert_agree(*steps_apart(data, qdq, held_out, None), every=1)
    if activations == "QInt8":
        assert steps_apart(data, qdq, held_out, None, fused=True)[0].max() <= 1


@pytest.mark.parametrize("preset", ["performance", "mixed"])
def test_nncf_tiny_cnn(tiny, tmp_path, preset):
    _, calibration, held_out = tiny
    qdq = nncf_quantized(TINY, str(tmp_path / "qdq.onnx"), calibration, preset)
    # NNCF quantizes op inputs: the outputs it leaves float take calibrated ranges
    qmodel, report = quantize(qdq, "int8", calibration=calibration, report_samples=0)
    assert [k.op_type for k in report.kept_float] == ["SOFTMAX"]  # NNCF leaves it float; so does --target xnnpack
    assert_agree(*steps_apart(qmodel.to_bytes(), qdq, held_out, SOFTMAX_STEP), every=NNCF_STEPS)


@pytest.mark.realmodel
@pytest.mark.parametrize("opset,per_channel,activations", [(None, False, "QInt8"), (13, True, "QInt8"),
                                                            (13, True, "QUInt8")])
def test_onnxruntime_ppocr_cls(cls, opset, per_channel, activations):
    src, folder, calibration, held_out = cls
    name = f"{opset}_{per_channel}_{activations}"
    pre = preprocessed(src, str(folder / f"pre_{name}.onnx"), opset)
    qdq = ort_quantized(pre, str(folder / f"qdq_{name}.onnx"), calibration, per_channel, activations)
    qmodel, report = quantize(qdq, "int8", input_shapes=CLS_SHAPE)
    assert report.calibration_samples == 0 and not report.kept_float
    assert_agree(*steps_apart(qmodel.to_bytes(), qdq, held_out, None))


@pytest.mark.realmodel
def test_nncf_ppocr_cls(cls):
    src, folder, calibration, held_out = cls
    qdq = nncf_quantized(src, str(folder / "nncf.onnx"), calibration)
    qmodel, report = quantize(qdq, "int8", calibration=calibration, input_shapes=CLS_SHAPE, report_samples=0)
    assert [k.op_type for k in report.kept_float] == ["SOFTMAX"]
    assert_agree(*steps_apart(qmodel.to_bytes(), qdq, held_out, SOFTMAX_STEP))
