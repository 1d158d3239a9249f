"""--engine nncf: NNCF's post-training quantization of an ONNX model, read back as a QDQ model.

nncf.quantize runs on the calibration samples (its preset, fast bias correction, every sample in the
statistics subset) and returns the model with QuantizeLinear/DequantizeLinear pairs and weights on NNCF's
grids; the ONNX importer keeps those ranges and grids (convert/onnx/lower_quant.py) and int8 quantization
takes them (qdq.py), calibrating only what NNCF leaves open (it quantizes op inputs, not every output).
NNCF is an optional dependency (`pip install edgepress[nncf]`), imported only when this engine runs.
"""
from __future__ import annotations

import contextlib
import os
import sys
import time

from edgepress.convert.ir import Model
from edgepress.errors import UsageError

from .data import ImageOptions, samples


def nncf_quantized(model, calibration, max_samples: int | None, images: ImageOptions | None,
                   input_shapes: dict | None, preset: str) -> tuple[Model, Model, list, float]:
    """(the source's float IR, the IR of NNCF's QDQ model, the calibration feeds it used, seconds NNCF took).
    The float IR is what the report measures against: NNCF's model already differs from it (its weights are
    rounded and bias-corrected)."""
    if not isinstance(model, (str, os.PathLike)):
        raise UsageError("--engine nncf quantizes an ONNX model file; got an in-memory model")
    path = os.fspath(model)
    from edgepress.convert import model_format
    if model_format(path) != "onnx":
        raise UsageError(f"--engine nncf quantizes ONNX models; {path} is a .tflite model (use --engine edgepress)")
    if calibration is None:
        raise UsageError("--engine nncf needs calibration data (--calibration: a folder of images, .npy or .npz)")
    nncf = import_nncf()
    from edgepress.convert import load
    from edgepress.convert.onnx.importer import import_onnx, load_proto
    from edgepress.convert.passes import optimize
    source = load(path, input_shapes=input_shapes)
    proto = load_proto(path)
    feeds = list(samples(calibration, source.graph.inputs, max_samples, images))
    if not feeds:
        raise UsageError("the calibration data holds no samples")
    start = time.perf_counter()
    with contextlib.redirect_stdout(sys.stderr):  # NNCF's progress bars; stdout carries the report
        quantized = nncf.quantize(proto, nncf.Dataset(feeds), preset=nncf.QuantizationPreset(preset),
                                  fast_bias_correction=True, subset_size=len(feeds))
    seconds = round(time.perf_counter() - start, 3)
    ir = optimize(import_onnx(quantized, input_shapes=input_shapes))
    ir.source_path = path
    return source, ir, feeds, seconds


def import_nncf():
    try:
        import nncf
    except ImportError:
        raise UsageError("--engine nncf needs NNCF: pip install edgepress[nncf]") from None
    return nncf
