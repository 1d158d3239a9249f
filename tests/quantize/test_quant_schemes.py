"""Every scheme on small ONNX models: the quantized .tflite loads and runs in ai-edge-litert (and tflite-runtime
where it is set up), its outputs track onnxruntime's float outputs, our reference evaluator's integer results
equal ai-edge-litert's on the same model, and int8 shrinks conv weights ~4x.

Accuracy is measured on calibration samples: with 16 samples, held-out ones can exceed the calibrated
ranges and clip, which measures the calibration set's coverage rather than the quantization."""
import numpy as np
import onnx
import pytest

from edgepress.convert import load
from edgepress.quantize import SCHEMES, quantize

from qmodels import MODELS, input_samples
from qoracle import tflite_runtime_run

CALIBRATION, CHECKED = 16, 3


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    folder = tmp_path_factory.mktemp("models")
    built = {}
    for name, make in MODELS.items():
        proto = make()
        path = folder / f"{name}.onnx"
        onnx.save(proto, path)
        built[name] = (proto, load(str(path)), input_samples(proto, CALIBRATION))
    return built


def litert_run(data: bytes, feeds: dict, reference_kernels: bool = False) -> dict:
    from ai_edge_litert.interpreter import Interpreter, OpResolverType
    resolver = OpResolverType.BUILTIN_REF if reference_kernels else OpResolverType.AUTO
    interp = Interpreter(model_content=data, num_threads=1, experimental_op_resolver_type=resolver)
    return interp.get_signature_runner("serving_default")(**feeds)


def onnxruntime_run(proto, feeds: dict) -> dict:
    import onnxruntime as ort
    sess = ort.InferenceSession(proto.SerializeToString(), providers=["CPUExecutionProvider"])
    return dict(zip([o.name for o in sess.get_outputs()], sess.run(None, feeds)))


def coarsest_step(qmodel) -> float:
    """The largest quantization step of any integer activation: a rounding there moves every output
    downstream by up to that much times the path's gain."""
    return max(float(t.quant.scale[0]) for t in qmodel.graph.tensors()
               if t.quant is not None and not t.is_constant and t.dtype in ("int8", "int16"))


# Bounds on the max abs error against float: relative to max(1, |float|), or for int8
# in steps of its coarsest activation quantization (a few layers' roundings add up). int16x8 keeps int8
# weights, whose error dominates its tiny int16 steps, so it gets a relative bound.
RELATIVE = {"float16": 1e-3, "dynamic": 0.04, "int16x8": 0.02}
STEPS = {"int8": 2}


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("name", sorted(MODELS))
def test_scheme_runs_in_litert_and_tracks_float(models, name, scheme):
    proto, ir, samples = models[name]
    qmodel, report = quantize(ir, scheme, calibration=samples[:CALIBRATION])
    data = qmodel.to_bytes()
    worst = {}
    for feeds in samples[:CHECKED]:
        expected = onnxruntime_run(proto, feeds)
        engines = {"ai-edge-litert": litert_run(data, feeds)}
        other = tflite_runtime_run(data, feeds)
        if other is not None:
            engines["tflite-runtime"] = other
        for engine, got in engines.items():
            for out, ref in expected.items():
                err = float(np.max(np.abs(got[out].reshape(ref.shape) - ref)))
                if scheme in RELATIVE:
                    bound = RELATIVE[scheme] * max(1.0, float(np.max(np.abs(ref))))
                else:
                    bound = STEPS[scheme] * coarsest_step(qmodel)
                worst[out] = max(worst.get(out, 0.0), err / bound)
                assert err <= bound, f"{engine} {name} {scheme} output {out}: error {err:.4g} > {bound:.4g}"
    print(f"{name} {scheme}: max error / bound {worst}")
    assert report.size_after < report.size_before
    assert all(k.chosen for k in report.kept_float)  # dynamic leaves small weights float, by design
    assert set(report.outputs) == set(expected)


@pytest.mark.parametrize("name", sorted(MODELS))
def test_reference_evaluator_equals_litert_on_the_int8_model(models, name):
    """int8 inputs and outputs, so both engines see and produce the same integers."""
    _, ir, samples = models[name]
    qmodel, _ = quantize(ir, "int8", calibration=samples[:CALIBRATION], io_type="int8", report_samples=0)
    data = qmodel.to_bytes()
    inputs = {t.name: t for t in qmodel.graph.inputs}
    outputs = {t.name: t for t in qmodel.graph.outputs}
    from edgepress.quantize.params import quantize_array
    for feeds in samples[:CHECKED]:
        qfeeds = {k: quantize_array(v, inputs[k].quant, "int8") for k, v in feeds.items()}
        ours = qmodel.run(qfeeds)
        # Per op both agree within 1 LSB (test_quantized_reference.py). Through a model an off-by-one of
        # XNNPACK's float requantization propagates, and grows where a finer scale follows a coarser one
        # (TANH after a conv): compared in real units, within 2 of the model's coarsest steps.
        for reference_kernels in (True, False):
            theirs = litert_run(data, qfeeds, reference_kernels)
            for out, value in ours.items():
                diff = np.abs(value.astype(np.int64) - theirs[out].reshape(value.shape).astype(np.int64)).max()
                if reference_kernels:
                    assert diff <= 1, f"{name} output {out}: {diff} LSB from TFLite's reference kernels"
                else:
                    real = diff * float(outputs[out].quant.scale[0])
                    assert real <= 2 * coarsest_step(qmodel), f"{name} output {out}: {diff} LSB from XNNPACK"


def test_int8_file_is_under_a_third_of_float(models):
    _, ir, samples = models["conv_heavy"]
    qmodel, report = quantize(ir, "int8", calibration=samples[:4], report_samples=0)
    float_size = len(ir.to_bytes())
    assert report.size_before == float_size
    assert report.size_after == len(qmodel.to_bytes()) <= 0.3 * float_size
