"""Post-training quantization (see README.md here): float16, dynamic-range, int8 and int16x8 TFLite models
from float ones, calibrated on user data, with a per-layer report of what it cost."""
from .api import SCHEMES, StaysFloatWarning, quantize
from .data import ImageOptions
from .report import Report

__all__ = ["quantize", "SCHEMES", "ImageOptions", "Report", "StaysFloatWarning"]
