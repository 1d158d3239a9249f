"""quantize(): the one entry point the CLI and Python users call; composes calibration, a scheme's pass,
the accuracy budget and the report."""
from __future__ import annotations

import os
import time
import warnings
from dataclasses import asdict
from itertools import islice

from edgepress.convert.ir import Model
from edgepress.errors import UnsupportedOpsError, UsageError

from . import budget as B
from . import calibrators, qdq
from .bias_correction import SHIFT
from .calibrate import collect
from .data import ImageOptions, samples
from .decompose import decompose
from .equalize import equalize as equalize_pairs
from .dynamic import quantize_dynamic
from .float16 import quantize_float16
from .integer import IO_TYPES, quantize_integer
from .report import Report, compare
from .select import keep_float_matcher
from .targets import TARGETS, target_for

SCHEMES = ("float16", "dynamic", "int8", "int16x8")
ACTIVATION = {"int8": "int8", "int16x8": "int16"}
ENGINES = ("edgepress", "nncf")
PRESETS = ("performance", "mixed")  # NNCF's: symmetric, or asymmetric activations
FALLBACKS = ("float", "int16")  # what --max-drop keeps its most sensitive layers in


class StaysFloatWarning(UserWarning):
    """An op has no integer kernel (or lacks what it needs) and runs in float between DEQUANTIZE/QUANTIZE."""


class BudgetWarning(UserWarning):
    """The accuracy budget could not be met even with every weighted layer kept float."""


def quantize(model, scheme: str, calibration=None, io_type: str = "float32", calibrator: str = "minmax",
             keep_float=(), strict: bool = False, *, keep_int16=(), bias_correction: bool = True,
             max_drop: float | None = None, budget_fallback: str = "float",
             metric="cosine", held_out: int = 4, max_samples: int | None = None,
             images: ImageOptions | None = None, report_samples: int = 8,
             input_shapes: dict | None = None, engine: str = "edgepress",
             preset: str = "performance", target: str = "xnnpack", equalize: bool = False) -> tuple[Model, Report]:
    """Quantize `model` (an IR Model or a model path) with `scheme`.

    calibration: a folder of images, a .npy/.npz path, or an iterable of feeds (see data.py); required for
    int8 and int16x8 (but for QDQ models, see below), optional otherwise (it then feeds bias correction and
    the report's accuracy rows).
    bias_correction: cancel the mean output shift quantized weights cause (needs calibration data).
    equalize: cross-layer equalization of weighted layer pairs with ReLU, PReLU, leaky ReLU, zero padding or
    nothing between (equalize.py), before calibration; not for float16.
    keep_int16: ops (names or op types, as keep_float) of an int8 model to run with int16 activations
    (int16x8 kernels, QUANTIZE between int8 and int16 where they meet).
    max_drop: accuracy budget; the first `held_out` samples are set aside to measure `metric` ("cosine",
    "top1", "mse" or a function(float outputs, quantized outputs) -> drop) and the most sensitive layers
    stay float (budget_fallback "float") or go int16x8 ("int16", int8 models) until the drop is within
    max_drop (see budget.py).
    A QDQ model (convert/onnx/lower_quant.py) brings its own ranges, which int8 and int16x8 take first (qdq.py);
    calibration then only covers the tensors they leave open and may be omitted (ops on those stay float).
    engine "nncf" (ONNX files, int8) runs NNCF's post-training quantization with `preset` ("performance" or
    "mixed") and fast bias correction on the calibration samples and quantizes the QDQ model it makes.
    target "xnnpack" expresses ops XNNPACK has no int8 kernel for with ops it has (decompose.py), so that
    litert runs a full-integer model in one delegate partition; "builtin" keeps TFLite's own ops (NPU
    delegates, TFLite Micro). int16x8 decomposes what TFLite has no int16 kernel for either way.
    Returns the quantized model and the Report; ops that stay float are named in StaysFloatWarning
    warnings, or raise UnsupportedOpsError when strict.
    """
    check_options(scheme, io_type, calibrator, max_drop, engine, preset, target)
    check_int16_layers(scheme, keep_int16, budget_fallback)
    report = Report(scheme)
    if engine == "nncf":
        from .nncf_engine import nncf_quantized
        reference, model, calibration, report.seconds["nncf"] = nncf_quantized(
            model, calibration, max_samples, images, input_shapes, preset)
    else:
        if isinstance(model, (str, os.PathLike)):
            from edgepress.convert import load
            model = load(os.fspath(model), input_shapes=input_shapes)
        reference = model
    if equalize and scheme != "float16":
        if qdq.source_ranges(model):
            raise UsageError("--equalize would move a QDQ model's weights off the grid its scales define")
        model, report.equalized_pairs = equalize_pairs(model)
        reference = model  # the same function; its activations are the ones the quantized model's track
    if scheme in ACTIVATION:
        model = decompose(model, target_for(ACTIVATION[scheme], target).decompose,
                          keep_float_matcher(model, keep_float))
    source = qdq.source_ranges(model) if scheme in ACTIVATION else {}
    check_calibration(scheme, calibration, max_drop, source)
    held, cal = calibrate(model, scheme, calibration, calibrator, bias_correction, max_drop is not None and held_out,
                          max_samples, images, report)

    def quantize_keeping(extra=()):
        floats, int16 = ([*keep_float, *extra], keep_int16) if budget_fallback == "float" else \
            (keep_float, [*keep_int16, *extra])
        return run_scheme(model, scheme, cal, io_type, calibrator, keep_float_matcher(model, floats),
                          source, target, keep_float_matcher(model, int16) if int16 else lambda op: False)

    start = time.perf_counter()
    if max_drop is None:
        qmodel, kept, tensor_map, report.int16_layers = quantize_keeping()
    else:
        result, fitted = B.fit(model, quantize_keeping, held, B.metric_fn(metric), max_drop)
        qmodel, kept, tensor_map, report.int16_layers = result
        fitted.fallback = budget_fallback
        report.budget = asdict(fitted)
        if not fitted.reached:
            warnings.warn(f"cannot reach --max-drop {max_drop} ({fitted.metric}): the best drop is "
                          f"{fitted.drop:.4g} with {len(fitted.kept)} weighted layer(s) {budget_fallback}",
                          BudgetWarning, stacklevel=2)
    report.seconds["quantization"] = round(time.perf_counter() - start, 3)
    report.kept_float = kept
    problems = [k for k in kept if not k.chosen]
    if strict and problems:
        raise UnsupportedOpsError({k.op_type: [k.op] for k in problems}, source=f"{scheme} quantization")
    for k in problems:
        warnings.warn(f"{k.op_type} '{k.op}' stays float: {k.reason}", StaysFloatWarning, stacklevel=2)
    report.size_before, report.size_after = len(reference.to_bytes()), len(qmodel.to_bytes())
    if cal is not None and report_samples:
        start = time.perf_counter()
        feeds = cal.samples[:report_samples]
        report.layers, report.outputs = compare(reference, qmodel, tensor_map, feeds)
        report.report_samples = len(feeds)
        report.seconds["report"] = round(time.perf_counter() - start, 3)
    return qmodel, report


def check_options(scheme, io_type, calibrator, max_drop, engine, preset, target) -> None:
    if scheme not in SCHEMES:
        raise UsageError(f"--scheme {scheme}: expected one of {', '.join(SCHEMES)}")
    if calibrator not in calibrators.CALIBRATORS:
        raise UsageError(f"--calibrator {calibrator}: expected one of {', '.join(calibrators.CALIBRATORS)}")
    if engine not in ENGINES:
        raise UsageError(f"--engine {engine}: expected one of {', '.join(ENGINES)}")
    if target not in TARGETS:
        raise UsageError(f"--target {target}: expected one of {', '.join(TARGETS)}")
    if preset not in PRESETS:
        raise UsageError(f"--preset {preset}: expected one of {', '.join(PRESETS)}")
    if engine == "nncf" and scheme != "int8":
        raise UsageError(f"--engine nncf makes int8 models; --scheme {scheme} is edgepress's own")
    if scheme not in ACTIVATION and io_type != "float32":
        raise UsageError(f"--io-type {io_type}: only full-integer schemes (int8, int16x8) change the I/O type")
    if scheme in ACTIVATION and io_type not in IO_TYPES[ACTIVATION[scheme]]:
        raise UsageError(f"--io-type {io_type} is not available with {scheme} (expected one of "
                         f"{', '.join(IO_TYPES[ACTIVATION[scheme]])})")
    if max_drop is not None and max_drop < 0:
        raise UsageError(f"--max-drop {max_drop}: expected a number >= 0")


def check_int16_layers(scheme, keep_int16, budget_fallback) -> None:
    if budget_fallback not in FALLBACKS:
        raise UsageError(f"--budget-fallback {budget_fallback}: expected one of {', '.join(FALLBACKS)}")
    if (keep_int16 or budget_fallback != "float") and scheme != "int8":
        raise UsageError(f"int16 layers (--keep-int16, --budget-fallback int16) go into int8 models, "
                         f"not --scheme {scheme}")


def check_calibration(scheme, calibration, max_drop, source_ranges: dict) -> None:
    """Full-integer schemes need ranges: calibrated ones, or those a QDQ model brings."""
    if calibration is not None:
        return
    if max_drop is not None or (scheme in ACTIVATION and not source_ranges):
        raise UsageError(f"--scheme {scheme}{' with --max-drop' if max_drop is not None else ''} needs "
                         f"calibration data (--calibration: a folder of images, .npy or .npz)")


def calibrate(model, scheme, calibration, calibrator, bias_correction, held_out, max_samples, images, report):
    """(held-out feeds, Calibration or None): the first `held_out` samples are kept apart for the budget."""
    if calibration is None:
        return [], None
    stream = samples(calibration, model.graph.inputs, max_samples, images)
    held = list(islice(stream, held_out or 0))
    means = weighted_inputs(model) if bias_correction and scheme != "float16" else ()
    cal = collect(model, stream, histograms=calibrator in calibrators.NEEDS_HISTOGRAM, channel_means=means)
    report.calibrator, report.calibration_samples = calibrator, cal.count
    report.seconds["calibration"] = round(cal.seconds, 3)
    return held, cal


def weighted_inputs(model) -> set:
    """Names of the tensors weighted ops read, whose per-channel means bias correction needs."""
    return {op.inputs[0].name for op in model.graph.ops if op.type in SHIFT and op.inputs[0] is not None}


def run_scheme(model, scheme, cal, io_type, calibrator, keep, source_ranges: dict, target: str, widen):
    """(quantized model, KeptFloat rows, float tensor name -> quantized tensor name, labels of int16 ops)."""
    means = {} if cal is None else {name: s.channel_mean for name, s in cal.stats.items()
                                    if s.channel_sum is not None}
    if scheme in ACTIVATION:
        calibrated = {} if cal is None else calibrators.ranges(cal.stats, calibrator)
        ranges = {**calibrated, **source_ranges}
        outcome = quantize_integer(model, ranges, ACTIVATION[scheme], io_type, keep, means,
                                   stays_float=target_for(ACTIVATION[scheme], target).stays_float, widen=widen)
        return outcome.model, outcome.kept_float, outcome.tensor_map, outcome.widened
    if scheme == "float16":
        qmodel, _ = quantize_float16(model, keep)
        kept = []
    else:
        qmodel, kept = quantize_dynamic(model, keep, means)
    names = {t.name for t in qmodel.graph.tensors() if not t.is_constant}
    tensor_map = {t.name: t.name for t in model.graph.tensors()
                  if t.dtype == "float32" and not t.is_constant and t.name in names}
    return qmodel, kept, tensor_map, []
