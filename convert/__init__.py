"""edgepress.convert: import ONNX or TFLite into one graph IR, optimize it, export standard TFLite."""
from __future__ import annotations

import os

from edgepress.errors import ModelFormatError

from .ir import Graph, Model, Op, QuantParams, Signature, Sparsity, Tensor

__all__ = ["load", "Model", "Graph", "Op", "Tensor", "QuantParams", "Signature", "Sparsity"]


def model_format(path: str) -> str:
    """'onnx' or 'tflite', from the file's content (TFLite's identifier) and then its extension."""
    if not os.path.isfile(path):
        raise ModelFormatError(path, "no such file")
    with open(path, "rb") as f:
        head = f.read(8)
    if head[4:8] == b"TFL3":
        return "tflite"
    ext = os.path.splitext(path)[1].lower()
    if ext == ".tflite":
        return "tflite"
    if ext == ".onnx" or ext == "":
        return "onnx"
    raise ModelFormatError(path, f"unknown model format '{ext}' (expected .onnx or .tflite)")


def load(path: str, input_shapes: dict | None = None, nhwc_io: bool = False, optimize: bool = True) -> Model:
    """Load an .onnx or .tflite model into the IR, run the standard passes, and return the Model.

    input_shapes maps input names to shapes (ONNX layout), fixing dynamic dimensions; nhwc_io makes 4-D
    image inputs and outputs NHWC instead of keeping the source layout.
    """
    if model_format(path) == "tflite":
        from .tflite.reader import read_tflite
        model = read_tflite(path)
    else:
        from .onnx.importer import import_onnx
        model = import_onnx(path, input_shapes=input_shapes)
    if optimize:
        from .passes import optimize as run_passes
        model = run_passes(model, nhwc_io=nhwc_io)
    return model
