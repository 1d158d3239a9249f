"""--engine nncf: NNCF's post-training quantization of an ONNX model, read back as a QDQ model.

nncf.quantize runs on the calibration samples (its preset, fast bias correction, every sample in the
statistics subset) and returns the model with QuantizeLinear/DequantizeLinear pairs and weights on NNCF's
grids; the ONNX importer keeps those ranges and grids (convert/onnx/lower_quant.py) and int8 quantization
takes them (qdq.py), calibrating only what NNCF leaves open (it quantizes op inputs, not every output).
NNCF is an optional dependency (`pip install edgepress[nncf]`), imported only when this engine runs.
"""
from __future__ import annotations

import os
import time

import numpy as np
import onnx

from edgepress.convert.ir import Model, Tensor
from edgepress.errors import UsageError

from .data import ImageOptions, samples


def nncf_quantized(model, calibration, max_samples: int | None, images: ImageOptions | None,
                   input_shapes: dict | None, preset: str) -> tuple[Model, list, float]:
    """(the IR of NNCF's QDQ model, the calibration feeds it used, seconds NNCF took)."""
    if not isinstance(model, (str, os.PathLike)):
        raise UsageError("--engine nncf quantizes an ONNX model file; got an in-memory model")
    path = os.fspath(model)
    from edgepress.convert import model_format
    if model_format(path) != "onnx":
        raise UsageError(f"--engine nncf quantizes ONNX models; {path} is a .tflite model (use --engine edgepress)")
    if calibration is None:
        raise UsageError("--engine nncf needs calibration data (--calibration: a folder of images, .npy or .npz)")
    nncf = import_nncf()
    from edgepress.convert.onnx.importer import import_onnx, load_proto
    from edgepress.convert.passes import optimize
    proto = load_proto(path)
    feeds = list(samples(calibration, graph_inputs(proto, input_shapes or {}), max_samples, images))
    if not feeds:
        raise UsageError("the calibration data holds no samples")
    start = time.perf_counter()
    quantized = nncf.quantize(proto, nncf.Dataset(feeds), preset=nncf.QuantizationPreset(preset),
                              fast_bias_correction=True, subset_size=len(feeds))
    seconds = round(time.perf_counter() - start, 3)
    ir = optimize(import_onnx(quantized, input_shapes=input_shapes))
    ir.source_path = path
    return ir, feeds, seconds


def import_nncf():
    try:
        import nncf
    except ImportError:
        raise UsageError("--engine nncf needs NNCF: pip install edgepress[nncf]") from None
    return nncf


def graph_inputs(proto: onnx.ModelProto, input_shapes: dict) -> list[Tensor]:
    """The model's run-time inputs as IR tensors (shapes from input_shapes where given), which is what
    data.samples checks calibration samples against."""
    initializers = {i.name for i in proto.graph.initializer}
    inputs = []
    for i in proto.graph.input:
        if i.name in initializers:
            continue
        tt = i.type.tensor_type
        shape = input_shapes.get(i.name) or [d.dim_value if d.HasField("dim_value") else None for d in tt.shape.dim]
        inputs.append(Tensor(i.name, tuple(shape), np.dtype(onnx.helper.tensor_dtype_to_np_dtype(tt.elem_type)).name))
    return inputs
