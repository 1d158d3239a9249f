"""runtime_edge: edgepress's C11 .tflite interpreter and its tf.lite-compatible Python binding."""
from .interpreter import Interpreter, SignatureRunner

__all__ = ["Interpreter", "SignatureRunner"]
