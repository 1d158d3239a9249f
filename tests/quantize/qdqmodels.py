"""QDQ models for the quantization tests, made by onnxruntime's quantize_static and nncf.quantize, and how far an
int8 TFLite model's outputs are from onnxruntime's run of such a model (see test_qdq_models.py for the bars).

onnxruntime runs QDQ models as written (graph optimizations off), each QuantizeLinear and DequantizeLinear as
the spec defines it; `fused` runs its integer kernels instead.
"""
import os

import numpy as np
import onnx
import onnxruntime as ort

from edgepress.quantize.spec import FIXED_OUTPUT

TINY = os.path.join(os.path.dirname(__import__("edgepress").__file__), "examples", "tiny_cnn.onnx")
CLS_SHAPE = {"x": [1, 3, 48, 192]}
SOFTMAX_STEP = 1 / 256
NNCF_STEPS = 2.5
MOSTLY = 0.9
FIXED = {op for op, _ in FIXED_OUTPUT}  # int8 kernels that fix their output parameters


def ort_session(path: str, fused: bool = False):
    opts = ort.SessionOptions()
    opts.log_severity_level = 3
    if not fused:
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    return ort.InferenceSession(path, opts, providers=["CPUExecutionProvider"])


def output_scale(path: str) -> float:
    """The step of the DequantizeLinear that writes the model's output."""
    model = onnx.load(path)
    last = next(n for n in model.graph.node if n.output[0] == model.graph.output[0].name)
    assert last.op_type == "DequantizeLinear"
    inits = {i.name: onnx.numpy_helper.to_array(i) for i in model.graph.initializer}
    return float(inits[last.input[1]])


def steps_apart(tflite: bytes, qdq_path: str, feeds: list, step: float | None, fused: bool = False):
    """Per sample: the largest output distance in steps, on the QDQ model's output grid (step None) or in
    `step`s, and whether the top class agrees."""
    from ai_edge_litert.interpreter import Interpreter
    sess = ort_session(qdq_path, fused)
    runner = Interpreter(model_content=tflite, num_threads=1).get_signature_runner("serving_default")
    grid = output_scale(qdq_path) if step is None else None
    steps, same_class = [], []
    for f in feeds:
        ref = sess.run(None, f)[0]
        got = next(iter(runner(**f).values()))
        if grid is not None:
            steps.append(float(np.max(np.abs(np.rint(got / grid) - np.rint(ref / grid)))))
        else:
            steps.append(float(np.max(np.abs(got.astype(np.float64) - ref))) / step)
        same_class.append(int(np.argmax(got)) == int(np.argmax(ref)))
    return np.array(steps), same_class


def assert_agree(steps: np.ndarray, same_class: list, every: float | None = None) -> None:
    """The same class on every sample, and within `every` steps on each, or one step on MOSTLY of them."""
    assert all(same_class), f"top class differs on samples {[i for i, s in enumerate(same_class) if not s]}"
    if every is not None:
        assert steps.max() <= every, f"steps per sample: {steps}"
    else:
        assert np.mean(steps <= 1) >= MOSTLY, f"steps per sample: {steps}"


def source_params(path: str) -> dict:
    """tensor name -> (scale, int8 zero point) of every run-time QuantizeLinear (uint8 zero points - 128)."""
    model = onnx.load(path)
    inits = {i.name: onnx.numpy_helper.to_array(i) for i in model.graph.initializer}
    out = {}
    for n in model.graph.node:
        if n.op_type == "QuantizeLinear" and n.input[0] not in inits:
            z = inits[n.input[2]]
            out[n.input[0]] = (float(inits[n.input[1]]), int(z) - (128 if z.dtype == np.uint8 else 0))
    return out


def int8_params(model) -> dict:
    """source tensor name -> {(scale, zero point)} of the int8 activations that carry it, leaving out the
    outputs of ops whose TFLite kernels fix their parameters."""
    out = {}
    for op in model.graph.ops:
        for t in op.outputs:
            if t.dtype == "int8" and op.type not in FIXED:
                for name in (t.name, *t.sources):
                    out.setdefault(name, set()).add((float(t.quant.scale[0]), int(t.quant.zero_point[0])))
    return out


def ort_quantized(src: str, out: str, calibration: list, per_channel: bool, activations: str) -> str:
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static

    class Reader(CalibrationDataReader):
        def __init__(self):
            self.it = iter(calibration)

        def get_next(self):
            return next(self.it, None)

    quantize_static(src, out, Reader(), quant_format=QuantFormat.QDQ, per_channel=per_channel,
                    activation_type=getattr(QuantType, activations), weight_type=QuantType.QInt8)
    return out


def nncf_quantized(src: str, out: str, calibration: list, preset: str = "performance") -> str:
    import nncf
    model = nncf.quantize(onnx.load(src), nncf.Dataset(calibration), preset=nncf.QuantizationPreset(preset),
                          fast_bias_correction=True, subset_size=len(calibration))
    onnx.save(model, out)
    return out


def preprocessed(src: str, out: str, opset: int | None = None) -> str:
    """onnxruntime's quant_pre_process (BatchNorm folded, constants as initializers), optionally at a newer
    opset (per-channel QDQ needs 13)."""
    from onnxruntime.quantization.shape_inference import quant_pre_process
    quant_pre_process(src, out, skip_symbolic_shape=True)
    if opset:
        onnx.save(onnx.version_converter.convert_version(onnx.load(out), opset), out)
    return out
