"""PP-OCR input preprocessing (as PaddleOCR's inference code does it) and the NCHW/NHWC layout switch.

Images here are gray, replicated to 3 channels, so PaddleOCR's BGR channel order and Pillow's RGB agree.
"""
from __future__ import annotations

import math

import numpy as np
from PIL import Image

CLS_SHAPE = (48, 192)
REC_SHAPE = (48, 320)
DET_SHAPE = (640, 640)
IMAGENET_MEAN = np.array([0.485, 0.456, 0.406], np.float32)
IMAGENET_STD = np.array([0.229, 0.224, 0.225], np.float32)


def _three_channels(gray: np.ndarray) -> np.ndarray:
    return np.repeat(gray[None].astype(np.float32), 3, axis=0)


def line_input(gray: np.ndarray, shape) -> np.ndarray:
    """cls/rec: resize to the model height keeping the aspect ratio (squeezing only lines wider than the
    model), scale to [-1, 1], then pad on the right with 0 (PaddleOCR pads after normalizing). 1 x 3 x H x W."""
    height, width = shape
    resized_w = min(width, math.ceil(height * gray.shape[1] / gray.shape[0]))
    resized = np.asarray(Image.fromarray(gray).resize((resized_w, height), Image.BILINEAR))
    out = np.zeros((1, 3, height, width), np.float32)
    out[0, :, :, :resized_w] = (_three_channels(resized) / 255.0 - 0.5) / 0.5
    return out


def page_input(gray: np.ndarray) -> np.ndarray:
    """det: ImageNet mean/std on pixels / 255, no resizing (pages are drawn at the model size). 1 x 3 x H x W."""
    chw = _three_channels(gray) / 255.0
    return ((chw - IMAGENET_MEAN[:, None, None]) / IMAGENET_STD[:, None, None])[None].astype(np.float32)


def to_layout(x: np.ndarray, layout: str) -> np.ndarray:
    """NCHW -> the model's layout. Only 4-D image tensors change, as with `edgepress convert --nhwc-io`."""
    _check(layout)
    return np.ascontiguousarray(x.transpose(0, 2, 3, 1)) if layout == "NHWC" and x.ndim == 4 else x


def from_layout(y: np.ndarray, layout: str) -> np.ndarray:
    """The model's layout -> NCHW, for 4-D outputs (det's probability map); others pass through."""
    _check(layout)
    return np.ascontiguousarray(y.transpose(0, 3, 1, 2)) if layout == "NHWC" and y.ndim == 4 else y


def _check(layout: str) -> None:
    if layout not in ("NCHW", "NHWC"):
        raise ValueError(f"layout must be 'NCHW' or 'NHWC', not {layout!r}")
